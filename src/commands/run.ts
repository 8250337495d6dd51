import { constants } from 'node:os';
import type { Argv } from 'yargs';
import type { GlobalOptions } from '../options.js';
import { BerthError } from '../errors.js';
import { log } from '../log.js';
import { createContainer, dryRun } from '../runtime/create-container.js';
import { runHooks, runHooksWarning } from '../runtime/hooks.js';
import { destroyContainer, removeCgroups, signalContainer, waitForExec } from '../runtime/lifecycle.js';
import { proxyTerminal } from '../runtime/terminal.js';
import { ociState, StateStore, type ContainerRecord } from '../state/index.js';
import { creationOptions, creationRequest, type CreationArgs } from './create.js';
import { COMMANDS } from './index.js';

export const command = 'run <container-id>';
export const describe = COMMANDS['run']!;
export const builder = (y: Argv<GlobalOptions>) =>
  creationOptions(y)
    .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'return once the container has started' })
    .option('keep', { type: 'boolean', default: false, describe: 'do not delete the container after it exits' });

/** Signals a foreground run passes on to the container instead of dying of them. */
const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'] as const;

export async function handler(args: GlobalOptions & CreationArgs & { detach: boolean; keep: boolean }): Promise<void> {
  if (args.dryRun) {
    process.stdout.write(await dryRun(creationRequest(args, 'pipe')));
    return;
  }
  const { container, record, child, master } = await createContainer({ ...creationRequest(args, 'pipe'), detach: args.detach });
  try {
    await runHooks('startContainer', record.config.hooks, ociState(record, 'created'), { containerPid: child.pid, pivoted: true });
    child.release();
  } catch (error) {
    child.kill();
    removeCgroups(record);
    container.remove();
    throw error;
  }
  // Let go of the lock: `delete`, `kill` and friends must work on the running container.
  container.close();
  await waitForExec(record);
  await runHooksWarning('poststart', record.config.hooks, ociState(record, 'running'), { cwd: record.bundle });
  if (args.detach) return;

  // process.terminal without --console-socket: berth relays between its stdio and the pty.
  const relay = master !== undefined ? proxyTerminal(master) : undefined;
  const status = await forwardingSignals(record, () => child.wait());
  await relay?.drained();
  relay?.close();
  if (!args.keep) await deleteStopped(args.root, record.id);
  // The container's status is the command's status (128+N when signal N killed it).
  process.exit(status);
}

async function forwardingSignals(record: ContainerRecord, wait: () => Promise<number>): Promise<number> {
  const listeners = FORWARDED.map((name) => {
    const listener = () => {
      if (!signalContainer(record, constants.signals[name])) log.debug(`${name} not forwarded: the container has exited`);
    };
    process.on(name, listener);
    return () => process.off(name, listener);
  });
  try {
    return await wait();
  } finally {
    for (const remove of listeners) remove();
  }
}

async function deleteStopped(root: string, id: string): Promise<void> {
  try {
    const container = new StateStore(root).open(id, 'exclusive');
    try {
      await destroyContainer(container, container.read());
    } finally {
      container.close();
    }
  } catch (error) {
    // Someone deleted it meanwhile: the container's exit status still is the answer.
    if (!(error instanceof BerthError)) throw error;
    log.warn(`after the container exited: ${error.message}`);
  }
}
