// Device rules every container gets after its own (runc's AllowedDevices, appended so
// that a config cannot take them away, as with runc): mknod of anything, and the
// character devices a process expects to find working in /dev.
import type { DeviceRule } from './types.js';

const char = (major: number | null, minor: number | null, access: string): DeviceRule => ({ allow: true, type: 'c', major, minor, access });

export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  char(null, null, 'm'),
  { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  char(1, 3, 'rwm'), // null
  char(1, 8, 'rwm'), // random
  char(1, 7, 'rwm'), // full
  char(5, 0, 'rwm'), // tty
  char(1, 5, 'rwm'), // zero
  char(1, 9, 'rwm'), // urandom
  char(136, null, 'rwm'), // pts
  char(5, 2, 'rwm'), // ptmx
  char(10, 200, 'rwm'), // tun
];

/** The container's rules followed by the defaults; later rules win. */
export function deviceRules(configured: readonly DeviceRule[] | undefined): DeviceRule[] {
  return [...(configured ?? []), ...DEFAULT_DEVICE_RULES];
}
