// Container records made directly through the state store, for tests of the commands
// that read them (state, list, kill, delete) without needing a real container.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { procStat, StateStore, type ContainerRecord } from '../../src/state/index.js';

/** A fresh --root for one test, removed afterwards. */
export function tempRoot(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-root-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'state');
}

let serial = 0;
export function uniqueId(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${serial++}`;
}

export function record(id: string, pid: number, pidStartTime: string, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    ociVersion: '1.3.0',
    id,
    pid,
    pidStartTime,
    bundle: '/nonexistent/bundle',
    rootfs: '/nonexistent/bundle/rootfs',
    created: new Date().toISOString(),
    annotations: {},
    owner: '',
    config: { ociVersion: '1.3.0' },
    ...extra,
  };
}

/** Store a record for `id` under root (the directory is claimed as create claims it). */
export function storeRecord(root: string, rec: ContainerRecord): void {
  const container = new StateStore(root).create(rec.id);
  try {
    container.write(rec);
  } finally {
    container.close();
  }
}

/** A host process this test owns, standing in for a container process; killed at teardown. */
export function sleeper(t: Test): { child: ChildProcess; pid: number; startTime: string } {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const pid = child.pid!;
  return { child, pid, startTime: procStat(pid)!.startTime };
}
