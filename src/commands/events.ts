// runc events: the container's resource usage as JSON lines, {"type":"stats","id":..,
// "data":{cpu, memory, pids, blkio, hugetlb}}, once (--stats) or every --interval until
// the container stops, with {"type":"oom","id":..} lines when the OOM killer strikes.
import type { Argv } from 'yargs';
import { BerthError } from '../errors.js';
import { loadContainer } from '../cgroups/container.js';
import { openCgroups, type CgroupHandle } from '../cgroups/index.js';
import { detectLayout } from '../cgroups/layout.js';
import { watchOom } from '../cgroups/oom.js';
import type { GlobalOptions } from '../options.js';
import { COMMANDS } from './index.js';

export const command = 'events <container-id>';
export const describe = COMMANDS['events']!;
export const builder = (y: Argv) =>
  y
    .positional('container-id', { type: 'string', demandOption: true })
    .option('stats', { type: 'boolean', default: false, describe: 'print the stats once and exit' })
    .option('interval', { type: 'string', default: '5s', describe: 'time between stats (a duration: 500ms, 5s, 1m)' });

interface Args extends GlobalOptions {
  containerId: string;
  stats: boolean;
  interval: string;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("1m30s", "500ms") in milliseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new BerthError(`--interval: ${JSON.stringify(text)} is not a duration like 5s or 500ms`);
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  if (ms <= 0) throw new BerthError('--interval: must be more than zero');
  return ms;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function emit(event: object): void {
  process.stdout.write(JSON.stringify(event) + '\n');
}

const statsEvent = (id: string, cg: CgroupHandle) => ({ type: 'stats', id, data: cg.stats() });

export async function handler(args: Args): Promise<void> {
  const interval = parseDuration(args.interval);
  const container = loadContainer(args.root, args.containerId);
  if (!alive(container.pid)) throw new BerthError(`container ${args.containerId} is not running`);
  const cg = openCgroups(container.cgroupPaths);
  if (args.stats) {
    emit(statsEvent(args.containerId, cg));
    return;
  }
  const oom = watchOom(container.cgroupPaths, detectLayout(), () => emit({ type: 'oom', id: args.containerId }));
  await new Promise<void>((resolve) => {
    const tick = () => {
      if (!alive(container.pid)) {
        clearInterval(timer);
        resolve();
        return;
      }
      emit(statsEvent(args.containerId, cg));
    };
    const timer = setInterval(tick, interval);
    tick();
  });
  oom?.stop();
}
