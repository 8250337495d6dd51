import { existsSync } from 'node:fs';
import type { Argv } from 'yargs';
import type { GlobalOptions } from '../options.js';
import { BerthError } from '../errors.js';
import { destroyContainer } from '../runtime/lifecycle.js';
import { ContainerNotFound, StateStore, type LockedContainer } from '../state/index.js';
import { COMMANDS } from './index.js';

export const command = 'delete <container-id>';
export const describe = COMMANDS['delete']!;
export const builder = (y: Argv<GlobalOptions>) =>
  y
    .positional('container-id', { type: 'string', demandOption: true })
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'kill the container first if it is still running' });

export async function handler(args: GlobalOptions & { containerId: string; force: boolean }): Promise<void> {
  let container: LockedContainer;
  try {
    container = new StateStore(args.root).open(String(args.containerId), 'exclusive');
  } catch (error) {
    // As runc: deleting what is already gone is what --force asks for, not a failure
    // (engines clean up with `delete --force` after a create that failed).
    if (args.force && error instanceof ContainerNotFound) return;
    throw error;
  }
  try {
    if (!existsSync(container.stateFile)) {
      // We hold the lock, so no create is still writing it: its creator died before it
      // wrote state.json. Remove the remains, or the id could never be used again.
      container.remove();
      if (args.force) return;
    }
    const record = container.read();
    const status = container.status(record);
    // As runc: a created container has never run user code, so deleting it needs no
    // --force; a running or paused one does.
    if ((status === 'running' || status === 'paused') && !args.force) {
      throw new BerthError(`cannot delete container ${record.id} that is not stopped: ${status}`);
    }
    await destroyContainer(container, record);
  } finally {
    container.close();
  }
}
