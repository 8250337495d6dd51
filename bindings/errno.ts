// errno numbers to names (Linux, identical on x86_64 and aarch64) so that every error
// reads `mount("proc", "/proc"): EPERM` rather than a bare number.
import { constants } from 'node:os';

const names = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!names.has(value)) names.set(value, name);
}

export function errnoName(errno: number): string {
  return names.get(errno) ?? `errno ${errno}`;
}

export function errnoNumber(name: string): number {
  const value = (constants.errno as Record<string, number>)[name];
  if (value === undefined) throw new Error(`unknown errno name ${name}`);
  return value;
}
