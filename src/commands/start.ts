import type { Argv } from 'yargs';
import type { GlobalOptions } from '../options.js';
import { BerthError } from '../errors.js';
import { runHooks, runHooksWarning } from '../runtime/hooks.js';
import { releaseFifoGate, signalContainer, waitForExec } from '../runtime/lifecycle.js';
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
    if (status === 'creating') throw new BerthError('cannot start a container that is still being created');
    if (status !== 'created') throw new BerthError(`cannot start an already ${status} container`);
    try {
      // runtime.md: in the container, before the user's process; a failure stops it.
      await runHooks('startContainer', record.config.hooks, ociState(record, 'created'), { containerPid: record.pid, pivoted: true });
    } catch (error) {
      signalContainer(record, 9);
      throw error;
    }
    releaseFifoGate(container.fifoPath);
    await waitForExec(record);
    // runtime.md: a failing poststart hook is logged and neither fails nor undoes start.
    await runHooksWarning('poststart', record.config.hooks, ociState(record, 'running'), { cwd: record.bundle });
  } finally {
    container.close();
  }
}
