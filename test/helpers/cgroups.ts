// Test cgroups that belong to the test alone: every one lives under a top-level
// directory with a unique name (berth-test-<pid>-<random>) on each hierarchy, and
// teardown kills only the processes the test spawned and removes only those directories.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { detectLayout } from '../../src/cgroups/layout.js';

export const layout = detectLayout();

export const BUSYBOX = '/bin/busybox';

/** A unique absolute cgroupsPath parent for one test; removed (with what is below it) at teardown. */
export function testCgroupRoot(t: Test): string {
  const name = `/berth-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  t.teardown(() => {
    const tops = [...Object.values(layout.v1), ...(layout.unified ? [layout.unified] : [])].map((m) => join(m, name));
    for (const top of tops) removeEmptyTree(top);
  });
  return name;
}

/** rmdir a tree of (empty) cgroups, deepest first; a cgroup still in use stays and is reported. */
function removeEmptyTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeEmptyTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch (e) {
    process.stderr.write(`test teardown: rmdir ${dir}: ${(e as Error).message}\n`);
  }
}

/**
 * Spawn a busybox shell that waits for a line on stdin before running `script`, so the
 * test can move it into a cgroup before it does anything. Killed at teardown.
 */
export function spawnWaiting(t: Test, script: string, options: { cwd?: string } = {}): ChildProcess & { go(): void; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(BUSYBOX, ['sh', '-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'], cwd: options.cwd });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited.then(() => undefined);
  });
  return Object.assign(child, { go: () => child.stdin!.write('go\n'), exited });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until f() is truthy (or the time is up), then return its last value. */
export async function eventually<T>(f: () => T, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = f();
  while (!v && Date.now() < deadline) {
    await sleep(20);
    v = f();
  }
  return v;
}
