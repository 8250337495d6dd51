// Run the built berth CLI as a user would, and capture what it prints.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BERTH = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function berth(args: readonly string[], options: SpawnSyncOptions = {}): Result {
  const r = spawnSync(process.execPath, [BERTH, ...args], { encoding: 'utf8', timeout: 120_000, ...options });
  return { status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}
