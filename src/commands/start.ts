import type { Argv } from 'yargs';
import type { GlobalOptions } from '../options.js';
import { BerthError } from '../errors.js';
import { runHooksWarning, type Hooks } from '../runtime/hooks.js';
import { openFifoGate, waitForExec } from '../runtime/lifecycle.js';
import { ociState, StateStore } from '../state/index.js';
import { COMMANDS } from './index.js';

export const command = 'start <container-id>';
export const describe = COMMANDS['start']!;
export const builder = (y: Argv<GlobalOptions>) => y.positional('container-id', { type: 'string', demandOption: true });

export async function handler(args: GlobalOptions & { containerId: string }): Promise<void> {
  const container = new StateStore(args.root).open(String(args.containerId), 'exclusive');
  try {
    const record = container.read();
    const status = container.status(record);
    if (status === 'stopped') throw new BerthError('cannot start a container that has stopped');
    if (status !== 'created') throw new BerthError(`cannot start an already ${status} container`);
    openFifoGate(container.fifoPath);
    await waitForExec(record);
    const hooks = (record.config as { hooks?: Hooks }).hooks;
    // runtime.md: a failing poststart hook is logged and neither fails nor undoes start.
    await runHooksWarning('poststart', hooks, ociState(record, 'running'), record.bundle);
  } finally {
    container.close();
  }
}
