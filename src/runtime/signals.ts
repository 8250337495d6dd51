// Signal names as `kill` accepts them: KILL, SIGKILL, sigkill, 9, RTMIN+3.
import { constants } from 'node:os';
import { BerthError } from '../errors.js';

const SIGRTMIN = 34;
const SIGRTMAX = 64;

export function parseSignal(text: string | number): number {
  const word = String(text).trim().toUpperCase();
  if (/^\d+$/.test(word)) {
    const n = Number(word);
    if (n <= SIGRTMAX) return n; // 0 checks that the process exists, as kill(2)
    throw new BerthError(`unknown signal ${JSON.stringify(String(text))}`);
  }
  const name = word.startsWith('SIG') ? word : `SIG${word}`;
  const known = (constants.signals as Record<string, number>)[name];
  if (known !== undefined) return known;
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const n = base + (rt[2] === '-' ? -1 : 1) * Number(rt[3] ?? 0);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw new BerthError(`unknown signal ${JSON.stringify(String(text))}`);
}

/** The shell's convention for a process killed by signal n. */
export function signalExitStatus(signal: number): number {
  return 128 + signal;
}
