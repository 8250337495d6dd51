// runc update: change a running container's resources, from runc's flags and/or a
// LinuxResources JSON document (-r FILE, or -r - for stdin); flags win over the file.
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { BerthError } from '../errors.js';
import { log } from '../log.js';
import { runningCgroups } from '../cgroups/container.js';
import type { Resources } from '../cgroups/types.js';
import type { GlobalOptions } from '../options.js';
import { COMMANDS } from './index.js';

export const command = 'update <container-id>';
export const describe = COMMANDS['update']!;

const BYTES = 'bytes, with an optional unit suffix (k, m, g, t)';

export const builder = (y: Argv) =>
  y
    .positional('container-id', { type: 'string', demandOption: true })
    .option('resources', { alias: 'r', type: 'string', describe: 'file with LinuxResources JSON to apply, - for stdin' })
    .option('memory', { type: 'string', describe: `memory limit, ${BYTES}` })
    .option('memory-reservation', { type: 'string', describe: `memory soft limit, ${BYTES}` })
    .option('memory-swap', { type: 'string', describe: `memory+swap limit, ${BYTES}; -1 for unlimited` })
    .option('kernel-memory', { type: 'string', describe: 'ignored (kernel memory limits are deprecated)' })
    .option('kernel-memory-tcp', { type: 'string', describe: 'ignored (kernel memory limits are deprecated)' })
    .option('cpu-share', { alias: 'cpu-shares', type: 'string', describe: 'CPU shares (relative weight)' })
    .option('cpu-quota', { type: 'string', describe: 'CPU time in microseconds per --cpu-period; -1 for unlimited' })
    .option('cpu-period', { type: 'string', describe: 'CFS period in microseconds' })
    .option('cpu-rt-runtime', { type: 'string', describe: 'realtime runtime in microseconds per --cpu-rt-period' })
    .option('cpu-rt-period', { type: 'string', describe: 'realtime period in microseconds' })
    .option('cpuset-cpus', { type: 'string', describe: 'CPUs to run on (0-3, 0,1)' })
    .option('cpuset-mems', { type: 'string', describe: 'memory nodes to use (0-3, 0,1)' })
    .option('pids-limit', { type: 'string', describe: 'maximum number of tasks; -1 for unlimited' })
    .option('blkio-weight', { type: 'string', describe: 'block IO weight, 10 to 1000' });

interface Args extends GlobalOptions {
  containerId: string;
  resources?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  cpuShare?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  cpuRtRuntime?: string;
  cpuRtPeriod?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** docker's RAMInBytes: "512m", "1.5g", "1024"; binary units; "-1" means unlimited. */
export function parseBytes(flag: string, text: string): number {
  if (text.trim() === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new BerthError(`--${flag}: ${JSON.stringify(text)} is not a size (like 512m or 1g)`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

export function parseInteger(flag: string, text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new BerthError(`--${flag}: ${JSON.stringify(text)} is not an integer`);
  return Number(text);
}

function readResources(source: string): Resources {
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (e) {
    throw new BerthError(`--resources: ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Resources;
  } catch (e) {
    throw new BerthError(`--resources: ${source}: ${(e as Error).message}`);
  }
}

/** The resources the flags ask for, on top of the -r document. */
export function resourcesFromArgs(args: Omit<Args, keyof GlobalOptions | 'containerId'>, base: Resources = {}): Resources {
  const r: Resources = structuredClone(base);
  const memory = () => (r.memory ??= {});
  const cpu = () => (r.cpu ??= {});
  if (args.memory !== undefined) memory().limit = parseBytes('memory', args.memory);
  if (args.memoryReservation !== undefined) memory().reservation = parseBytes('memory-reservation', args.memoryReservation);
  if (args.memorySwap !== undefined) memory().swap = parseBytes('memory-swap', args.memorySwap);
  if (args.kernelMemory !== undefined || args.kernelMemoryTcp !== undefined) log.warn('--kernel-memory and --kernel-memory-tcp are ignored: kernel memory limits are deprecated');
  if (args.cpuShare !== undefined) cpu().shares = parseInteger('cpu-share', args.cpuShare);
  if (args.cpuQuota !== undefined) cpu().quota = parseInteger('cpu-quota', args.cpuQuota);
  if (args.cpuPeriod !== undefined) cpu().period = parseInteger('cpu-period', args.cpuPeriod);
  if (args.cpuRtRuntime !== undefined) cpu().realtimeRuntime = parseInteger('cpu-rt-runtime', args.cpuRtRuntime);
  if (args.cpuRtPeriod !== undefined) cpu().realtimePeriod = parseInteger('cpu-rt-period', args.cpuRtPeriod);
  if (args.cpusetCpus !== undefined) cpu().cpus = args.cpusetCpus;
  if (args.cpusetMems !== undefined) cpu().mems = args.cpusetMems;
  if (args.pidsLimit !== undefined) r.pids = { limit: parseInteger('pids-limit', args.pidsLimit) };
  if (args.blkioWeight !== undefined) {
    const weight = parseInteger('blkio-weight', args.blkioWeight);
    if (weight !== 0 && (weight < 10 || weight > 1000)) throw new BerthError(`--blkio-weight: ${weight} is outside 10-1000`);
    r.blockIO = { ...r.blockIO, weight };
  }
  return r;
}

export function handler(args: Args): void {
  const base = args.resources !== undefined ? readResources(args.resources) : {};
  const resources = resourcesFromArgs(args, base);
  // Devices are set up once, with the container; update does not change them (runc).
  delete resources.devices;
  runningCgroups(args.root, args.containerId).update(resources);
}
