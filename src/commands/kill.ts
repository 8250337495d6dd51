import type { Argv } from 'yargs';
import type { GlobalOptions } from '../options.js';
import { BerthError } from '../errors.js';
import { signalAllInCgroup, signalContainer } from '../runtime/lifecycle.js';
import { parseSignal } from '../runtime/signals.js';
import { StateStore } from '../state/index.js';
import { COMMANDS } from './index.js';

export const command = 'kill <container-id> [signal]';
export const describe = COMMANDS['kill']!;
export const builder = (y: Argv<GlobalOptions>) =>
  y
    .positional('container-id', { type: 'string', demandOption: true })
    .positional('signal', { type: 'string', default: 'SIGTERM', describe: 'name (KILL, SIGKILL) or number' })
    .option('all', { alias: 'a', type: 'boolean', default: false, describe: "signal every process in the container's cgroup" });

export function handler(args: GlobalOptions & { containerId: string; signal: string; all: boolean }): void {
  const signal = parseSignal(args.signal);
  const container = new StateStore(args.root).open(String(args.containerId), 'none');
  try {
    const record = container.read();
    if (container.status(record) === 'stopped') throw new BerthError('container not running');
    if (args.all) signalAllInCgroup(record, signal);
    else if (!signalContainer(record, signal)) throw new BerthError('container not running');
  } finally {
    container.close();
  }
}
