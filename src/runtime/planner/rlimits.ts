// process.rlimits -> one prlimit64(0, resource, &new, NULL) per entry, set while the
// process is still privileged. Without CAP_SYS_RESOURCE a hard limit can only be
// lowered: raising one fails with EPERM at that step, which names the entry.
//
// In a user namespace the child never has CAP_SYS_RESOURCE where it counts (the initial
// user namespace), so the parent raises those hard limits first (hardLimitRaises), as
// runc 1.1 sets rlimits from its parent; the child's steps then set every limit exactly.
import { BerthError } from '../../errors.js';
import type { ParentRlimit, Step } from '../steps.js';
import { RLIMIT, RLIM_INFINITY, u64 } from './process-consts.js';

// TODO: Config['process']['rlimits'] once the real schema is on main.
export interface RlimitConfig {
  type: string;
  soft: number;
  hard: number;
}

/** A limit as the process has it (facts: what the child inherits from the runtime). */
export interface Rlimit {
  soft: bigint;
  hard: bigint;
}

interface Entry extends Rlimit {
  type: string;
  resource: number;
  field: string;
}

export function rlimitSteps(rlimits: readonly RlimitConfig[] | undefined): Step[] {
  return entries(rlimits).map((e) => ({
    call: 'sys_prlimit64',
    args: [0, e.resource, { bytes: rlimitBytes(e.soft, e.hard) }, null],
    what: `set ${e.type} to soft ${show(e.soft)}, hard ${show(e.hard)}`,
    field: e.field,
  }));
}

/**
 * The hard limits above what the child inherits (`inherited`, by type), raised by the
 * parent with the inherited soft limit kept, so nothing changes for the child's other
 * steps until its own prlimit64 steps run. A type missing from `inherited` is left to
 * the child.
 */
export function hardLimitRaises(rlimits: readonly RlimitConfig[] | undefined, inherited: Readonly<Record<string, Rlimit>>): ParentRlimit[] {
  return entries(rlimits).flatMap((e) => {
    const now = inherited[e.type];
    if (!now || e.hard <= now.hard) return [];
    return [{ resource: e.resource, soft: now.soft, hard: e.hard, what: `raise the hard ${e.type} to ${show(e.hard)}`, field: e.field }];
  });
}

function entries(rlimits: readonly RlimitConfig[] | undefined): Entry[] {
  const seen = new Set<string>();
  return (rlimits ?? []).map((rlimit, i) => {
    const field = `process.rlimits[${i}]`;
    const resource = RLIMIT[rlimit.type];
    if (resource === undefined) {
      throw new BerthError(`${field}.type: unknown resource limit ${JSON.stringify(rlimit.type)}`);
    }
    if (seen.has(rlimit.type)) throw new BerthError(`${field}.type: ${rlimit.type} is set twice`);
    seen.add(rlimit.type);
    const soft = u64(rlimit.soft, `${field}.soft`);
    const hard = u64(rlimit.hard, `${field}.hard`);
    if (soft > hard) throw new BerthError(`${field}: soft limit ${soft} is above the hard limit ${hard}`);
    return { type: rlimit.type, resource, soft, hard, field };
  });
}

/** struct rlimit64 { __u64 rlim_cur; __u64 rlim_max; }, little-endian (x86_64, aarch64). */
function rlimitBytes(soft: bigint, hard: bigint): Uint8Array {
  const view = new DataView(new ArrayBuffer(16));
  view.setBigUint64(0, soft, true);
  view.setBigUint64(8, hard, true);
  return new Uint8Array(view.buffer);
}

function show(value: bigint): string {
  return value === RLIM_INFINITY ? 'unlimited' : String(value);
}
