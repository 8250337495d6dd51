// The process planner's kernel constants are bindings/constants.ts's; what stays here
// is the planner's own: access(2)'s mode, NGROUPS_MAX and the reader of u64 fields.
import { BerthError } from '../../errors.js';

export {
  CAP, CAPABILITIES, CAP_LAST_CAP, LINUX_CAPABILITY_VERSION_3, PERSONALITY_DOMAINS, PR, RLIMIT, RLIM_INFINITY, SECCOMP, SECCOMP_FLAGS,
} from '../../../bindings/constants.js';

/** access(2) mode: may the caller execute it. */
export const X_OK = 1;

/** Linux's NGROUPS_MAX: the most supplementary groups setgroups(2) takes. */
export const NGROUPS_MAX = 65536;

const U64_MAX = 0xffffffffffffffffn;

/**
 * A JSON number as a u64 (rlimits, seccomp argument values), or an error naming field.
 * JSON cannot carry 2^64-1 exactly: the usual way to write it, 18446744073709551615,
 * parses as 2^64, so anything at or above 2^64 is 2^64-1 (RLIM_INFINITY, ~0).
 */
export function u64(value: number, field: string): bigint {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new BerthError(`${field}: ${JSON.stringify(value)} is not an unsigned 64-bit integer`);
  }
  return value >= 2 ** 64 ? U64_MAX : BigInt(value);
}
