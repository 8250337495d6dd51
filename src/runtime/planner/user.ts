// process.user -> the steps that switch the container process to its user: the
// supplementary groups, then gid, then uid (once the uid changes the process may no
// longer change its groups), always with the raw system calls, never glibc's wrappers
// (those broadcast to threads the cloned child does not have).
import { BerthError } from '../../errors.js';
import type { Expectations, Step } from '../steps.js';
import { NGROUPS_MAX, PR } from './process-consts.js';

// TODO: Config['process']['user'] and Config['linux'] id mappings once the real schema is on main.
export interface UserConfig {
  uid?: number;
  gid?: number;
  umask?: number;
  additionalGids?: number[];
}

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface UserContext {
  /** The process runs in a user namespace (created or joined). */
  userNamespace: boolean;
  /** The user namespace's id maps when berth writes them (unknown when one is joined). */
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  /** 'deny' when /proc/<pid>/setgroups denies setgroups(2) in the user namespace. */
  setgroups?: 'allow' | 'deny';
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups, without duplicates, in the order the kernel keeps them (sorted). */
  groups: number[];
  /** setgroups(2) is skipped: it is denied in this user namespace. */
  skipGroups: boolean;
}

export function resolveUser(user: UserConfig | undefined, ctx: UserContext): ResolvedUser {
  const uid = id(user?.uid, 'process.user.uid');
  const gid = id(user?.gid, 'process.user.gid');
  const extra = user?.additionalGids ?? [];
  extra.forEach((g, i) => id(g, `process.user.additionalGids[${i}]`));
  const groups = [...new Set(extra)].sort((a, b) => a - b);
  if (groups.length > NGROUPS_MAX) {
    throw new BerthError(`process.user.additionalGids: ${groups.length} groups, the kernel allows ${NGROUPS_MAX}`);
  }
  if (ctx.userNamespace) {
    requireMapped(uid, ctx.uidMappings, 'process.user.uid', 'linux.uidMappings');
    requireMapped(gid, ctx.gidMappings, 'process.user.gid', 'linux.gidMappings');
    extra.forEach((g, i) => requireMapped(g, ctx.gidMappings, `process.user.additionalGids[${i}]`, 'linux.gidMappings'));
  }
  return { uid, gid, groups, skipGroups: ctx.userNamespace && ctx.setgroups === 'deny' };
}

function id(value: number | undefined, field: string): number {
  const v = value ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > 0xfffffffe) {
    throw new BerthError(`${field}: ${JSON.stringify(value)} is not a valid id`);
  }
  return v;
}

/** setresuid to an unmapped id fails with EINVAL; say which id instead. */
function requireMapped(value: number, mappings: IdMapping[] | undefined, field: string, mapField: string): void {
  if (!mappings) return;
  const mapped = mappings.some((m) => value >= m.containerID && value - m.containerID < m.size);
  if (!mapped) throw new BerthError(`${field}: ${value} is not mapped in the user namespace (${mapField})`);
}

/** PR_SET_KEEPCAPS: keep the permitted set across the uid change (on), or stop (off). */
export function keepCapsStep(on: boolean): Step {
  return {
    call: 'prctl',
    args: [PR.SET_KEEPCAPS, on ? 1 : 0, 0, 0, 0],
    what: on ? 'keep capabilities across the uid change' : 'stop keeping capabilities across uid changes',
    field: 'process.capabilities',
  };
}

/**
 * setgroups, setresgid, setresuid. setgroups always runs (with an empty list when
 * there are no additionalGids) so the runtime's own groups never leak into the
 * container, except where the user namespace denies it (as runc does, silently).
 */
export function userSteps(user: ResolvedUser): Step[] {
  const steps: Step[] = [];
  if (!user.skipGroups) steps.push(setgroupsStep(user.groups));
  steps.push(
    {
      call: 'sys_setresgid',
      args: [user.gid, user.gid, user.gid],
      what: `set gid ${user.gid}`,
      field: 'process.user.gid',
    },
    {
      call: 'sys_setresuid',
      args: [user.uid, user.uid, user.uid],
      what: `set uid ${user.uid}`,
      field: 'process.user.uid',
    },
  );
  return steps;
}

function setgroupsStep(groups: number[]): Step {
  const list = new DataView(new ArrayBuffer(groups.length * 4));
  groups.forEach((g, i) => list.setUint32(i * 4, g, true));
  return {
    call: 'sys_setgroups',
    args: [groups.length, groups.length ? { bytes: new Uint8Array(list.buffer) } : null],
    what: groups.length ? `set supplementary groups ${groups.join(',')}` : 'clear supplementary groups',
    field: 'process.user.additionalGids',
  };
}

/** Without setgroups the groups are whatever the namespace shows: leave them unchecked. */
export function userExpectations(user: ResolvedUser): Expectations {
  return user.skipGroups ? { uid: user.uid, gid: user.gid } : { uid: user.uid, gid: user.gid, groups: user.groups };
}
