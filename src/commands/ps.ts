// runc ps: the container's pids as JSON, or the host's `ps` output (run with the given
// ps options) narrowed to the container's processes.
import { spawnSync } from 'node:child_process';
import type { Argv } from 'yargs';
import { BerthError } from '../errors.js';
import { runningCgroups } from '../cgroups/container.js';
import type { GlobalOptions } from '../options.js';
import { COMMANDS } from './index.js';

export const command = 'ps <container-id> [ps-args..]';
export const describe = COMMANDS['ps']!;
export const builder = (y: Argv) =>
  y
    .positional('container-id', { type: 'string', demandOption: true })
    .positional('ps-args', { type: 'string', array: true, describe: 'options for ps (after --), default -ef' })
    .option('format', { alias: 'f', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'output format' });

interface Args extends GlobalOptions {
  containerId: string;
  psArgs?: string[];
  format: 'table' | 'json';
  _: (string | number)[];
}

/** Keep ps's header and the lines whose PID column is one of `pids`. */
export function filterPsOutput(output: string, pids: ReadonlySet<number>): string {
  const [header = '', ...lines] = output.split('\n');
  const column = header.trim().split(/\s+/).indexOf('PID');
  if (column < 0) throw new BerthError("ps: its output has no PID column (the ps options must keep it)");
  const kept = lines.filter((line) => pids.has(Number(line.trim().split(/\s+/)[column])));
  return [header, ...kept].join('\n') + '\n';
}

export function handler(args: Args): void {
  const pids = runningCgroups(args.root, args.containerId).pids();
  if (args.format === 'json') {
    process.stdout.write(JSON.stringify(pids) + '\n');
    return;
  }
  // Options after `--` reach yargs' `_` (after the command name itself).
  const psArgs = [...(args.psArgs ?? []), ...args._.slice(1).map(String)];
  const ps = spawnSync('ps', psArgs.length > 0 ? psArgs : ['-ef'], { encoding: 'utf8' });
  if (ps.error) throw new BerthError(`ps: ${ps.error.message}`);
  if (ps.status !== 0) throw new BerthError(`ps ${psArgs.join(' ')}: ${ps.stderr.trim() || `exit status ${ps.status}`}`);
  process.stdout.write(filterPsOutput(ps.stdout, new Set(pids)));
}
