// process.capabilities -> the prctl/capset steps that give the container exactly those
// sets, and the bitmasks /proc/<pid>/status must then show (runc's order: bounding set
// first while still privileged, capset after the user change, ambient last).
import { BerthError } from '../../errors.js';
import type { Expectations, Step } from '../steps.js';
import { CAP, CAPABILITIES, LINUX_CAPABILITY_VERSION_3, PR } from './process-consts.js';

// TODO: Config['process']['capabilities'] once the real schema is on main.
export interface CapabilitiesConfig {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

const SET_NAMES = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;
type SetName = (typeof SET_NAMES)[number];

/** Each set as a bitmask over capability numbers (bit n = capability n). */
export type CapabilitySets = Record<SetName, bigint>;

/**
 * Parse the five sets. An unknown name is an error naming its field; a known capability
 * this kernel does not have (above cap_last_cap) is left out, as runc does, since
 * the kernel could neither grant nor drop it.
 */
export function capabilitySets(config: CapabilitiesConfig | undefined, lastCap: number): CapabilitySets {
  const sets = {} as CapabilitySets;
  for (const set of SET_NAMES) {
    let mask = 0n;
    (config?.[set] ?? []).forEach((name, i) => {
      const bit = CAP[name];
      if (bit === undefined) {
        throw new BerthError(`process.capabilities.${set}[${i}]: unknown capability ${JSON.stringify(name)}`);
      }
      if (bit <= lastCap) mask |= 1n << BigInt(bit);
    });
    sets[set] = mask;
  }
  return sets;
}

/** Ambient capabilities the kernel will actually raise: only those permitted and inheritable. */
function raisableAmbient(sets: CapabilitySets): bigint {
  return sets.ambient & sets.permitted & sets.inheritable;
}

function allCaps(lastCap: number): bigint {
  return (1n << BigInt(lastCap + 1)) - 1n;
}

function capsIn(mask: bigint, lastCap: number): number[] {
  const caps: number[] = [];
  for (let cap = 0; cap <= lastCap; cap++) if (mask & (1n << BigInt(cap))) caps.push(cap);
  return caps;
}

/**
 * PR_CAPBSET_DROP for every capability outside the bounding set that the process still
 * has (`present`: the runtime's own bounding set, which the child inherits; dropping
 * what is already gone would be a no-op step). Needs CAP_SETPCAP: run while privileged.
 */
export function boundingSteps(sets: CapabilitySets, lastCap: number, present = allCaps(lastCap)): Step[] {
  return capsIn(present & ~sets.bounding, lastCap).map((cap) => ({
    call: 'prctl',
    args: [PR.CAPBSET_DROP, cap, 0, 0, 0],
    what: `drop ${CAPABILITIES[cap]} from the bounding set`,
    field: 'process.capabilities.bounding',
  }));
}

/** The capset(2) call: header {version 3, pid 0} and two data structs (caps 0-31, 32-63). */
export function capsetStep(sets: CapabilitySets): Step {
  const header = new DataView(new ArrayBuffer(8));
  header.setUint32(0, LINUX_CAPABILITY_VERSION_3, true);
  header.setInt32(4, 0, true);
  const data = new DataView(new ArrayBuffer(24));
  for (const [half, shift] of [[0, 0n], [1, 32n]] as const) {
    const word = (mask: bigint) => Number((mask >> shift) & 0xffffffffn);
    data.setUint32(half * 12 + 0, word(sets.effective), true);
    data.setUint32(half * 12 + 4, word(sets.permitted), true);
    data.setUint32(half * 12 + 8, word(sets.inheritable), true);
  }
  return {
    call: 'sys_capset',
    args: [{ bytes: new Uint8Array(header.buffer) }, { bytes: new Uint8Array(data.buffer) }],
    what: `set capabilities effective=${hex(sets.effective)} permitted=${hex(sets.permitted)} inheritable=${hex(sets.inheritable)}`,
    field: 'process.capabilities',
  };
}

/**
 * Clear the ambient set, then raise each ambient capability that is permitted and
 * inheritable. The kernel refuses the others (EPERM); runc 1.1 then silently runs
 * without them (measured: `runc spec`'s default lists ambient capabilities but no
 * inheritable ones, and the container's CapAmb is 0), so berth leaves them out too.
 */
export function ambientSteps(sets: CapabilitySets, lastCap: number): Step[] {
  const clear: Step = {
    call: 'prctl',
    args: [PR.CAP_AMBIENT, PR.CAP_AMBIENT_CLEAR_ALL, 0, 0, 0],
    what: 'clear the ambient capability set',
    field: 'process.capabilities.ambient',
  };
  const raise = capsIn(raisableAmbient(sets), lastCap).map(
    (cap): Step => ({
      call: 'prctl',
      args: [PR.CAP_AMBIENT, PR.CAP_AMBIENT_RAISE, cap, 0, 0],
      what: `raise ${CAPABILITIES[cap]} in the ambient set`,
      field: 'process.capabilities.ambient',
    }),
  );
  return [clear, ...raise];
}

/**
 * What /proc/<pid>/status shows once the steps ran (before execve): capset sets E, P
 * and I exactly, whatever setresuid did to them before (a non-root uid with keepcaps
 * keeps P and loses E, but capset then sets E again); the bounding set is what the
 * drops left; ambient holds the raised capabilities.
 */
export function capabilityExpectations(sets: CapabilitySets): Expectations {
  return {
    capBnd: sets.bounding,
    capEff: sets.effective,
    capPrm: sets.permitted,
    capInh: sets.inheritable,
    capAmb: raisableAmbient(sets),
  };
}

function hex(mask: bigint): string {
  return '0x' + mask.toString(16);
}
