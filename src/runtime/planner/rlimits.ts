// process.rlimits -> one prlimit64(0, resource, &new, NULL) per entry, set while the
// process is still privileged. Without CAP_SYS_RESOURCE a hard limit can only be
// lowered: raising one fails with EPERM at that step, which names the entry.
import { BerthError } from '../../errors.js';
import type { Step } from '../steps.js';
import { RLIMIT, RLIM_INFINITY, u64 } from './process-consts.js';

// TODO: Config['process']['rlimits'] once the real schema is on main.
export interface RlimitConfig {
  type: string;
  soft: number;
  hard: number;
}

export function rlimitSteps(rlimits: readonly RlimitConfig[] | undefined): Step[] {
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
    return {
      call: 'sys_prlimit64',
      args: [0, resource, { bytes: rlimitBytes(soft, hard) }, null],
      what: `set ${rlimit.type} to soft ${show(soft)}, hard ${show(hard)}`,
      field,
    };
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
