// What /proc says about a process: enough to tell "our" container process from a
// process that merely reuses its pid after ours died.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** One letter: R, S, D, Z (zombie), X (dead), T, ... */
  state: string;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot at which the process started. */
  startTime: string;
}

/** /proc/<pid>/stat parsed, or null when there is no such process. */
export function procStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parentheses: the fields we want follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, startTime: fields[19]! };
}

/** True while `pid` is the very process that started at `startTime` and has not exited. */
export function isAlive(pid: number, startTime: string): boolean {
  const stat = procStat(pid);
  if (!stat || stat.startTime !== startTime) return false;
  return stat.state !== 'Z' && stat.state !== 'X';
}
