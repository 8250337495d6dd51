// Device rules every container gets after its own (runc's AllowedDevices, appended so
// that a config cannot take them away, as with runc): mknod of anything, and the
// character devices a process expects to find working in /dev.
import type { DeviceRule } from './types.js';

/** A char device rule; an absent major or minor matches any. */
const char = (major: number | undefined, minor: number | undefined, access: string): DeviceRule => ({ allow: true, type: 'c', major, minor, access });

export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  char(undefined, undefined, 'm'),
  { allow: true, type: 'b', access: 'm' },
  char(1, 3, 'rwm'), // null
  char(1, 8, 'rwm'), // random
  char(1, 7, 'rwm'), // full
  char(5, 0, 'rwm'), // tty
  char(1, 5, 'rwm'), // zero
  char(1, 9, 'rwm'), // urandom
  char(136, undefined, 'rwm'), // pts
  char(5, 2, 'rwm'), // ptmx
  char(10, 200, 'rwm'), // tun
];

/** The container's rules followed by the defaults; later rules win. */
export function deviceRules(configured: readonly DeviceRule[] | undefined): DeviceRule[] {
  return [...(configured ?? []), ...DEFAULT_DEVICE_RULES];
}
