// Small synchronous helpers for cgroup files, whose reads and writes are single
// syscalls the kernel answers at once.
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../errors.js';

/** Block the thread for ms milliseconds (polling a freezer that is still settling). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function readCgroupFile(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8').trim();
}

/** The file's content, or undefined when the file does not exist here. */
export function tryRead(dir: string, file: string): string | undefined {
  try {
    return readCgroupFile(dir, file);
  } catch {
    return undefined;
  }
}

export function fileExists(dir: string, file: string): boolean {
  return existsSync(join(dir, file));
}

/** Write one value; a failure names the config field and the file, and the errno. */
export function writeCgroupFile(dir: string, file: string, value: string, field?: string): void {
  try {
    // Never O_CREAT: a cgroup file that does not exist is an error, not a new file.
    // O_TRUNC, as runc opens them (cgroupfs ignores it).
    const fd = openSync(join(dir, file), constants.O_WRONLY | constants.O_TRUNC);
    try {
      writeSync(fd, value);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new BerthError(`${field ? `${field}: ` : ''}write ${file}: ${code}`, { cause: e });
  }
}

/** A flat key/value file (memory.stat, cpu.stat, cgroup.events) as numbers by key. */
export function parseKeyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}
