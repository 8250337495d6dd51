import type { Argv } from 'yargs';
import { BerthError } from '../errors.js';
import type { GlobalOptions } from '../options.js';
import { createContainer, dryRun } from '../runtime/create-container.js';
import { COMMANDS } from './index.js';

export const command = 'create <container-id>';
export const describe = COMMANDS['create']!;

/** The options create and run share, named as runc names them. */
export function creationOptions<T>(y: Argv<T>) {
  return y
    .positional('container-id', { type: 'string', demandOption: true })
    .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'bundle directory (holds config.json)' })
    .option('console-socket', { type: 'string', describe: 'unix socket that receives the pty master (process.terminal)' })
    .option('pid-file', { type: 'string', describe: "file to write the container process's pid to" })
    .option('no-pivot', { type: 'boolean', default: false, describe: 'do not use pivot_root (for a rootfs on ramfs)' })
    // berth never creates a session keyring, so there is nothing for this flag to turn off.
    .option('no-new-keyring', { type: 'boolean', default: false, describe: 'do not create a new session keyring' })
    .option('preserve-fds', { type: 'number', default: 0, describe: 'pass this many fds (from 3 up) into the container' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the exact system calls the container would be set up with; create nothing' });
}

export const builder = (y: Argv<GlobalOptions>) => creationOptions(y);

export interface CreationArgs {
  containerId: string;
  bundle: string;
  consoleSocket?: string;
  pidFile?: string;
  noPivot: boolean;
  preserveFds: number;
  dryRun: boolean;
}

export function creationRequest(args: GlobalOptions & CreationArgs, gate: 'fifo' | 'pipe') {
  return {
    root: args.root,
    id: String(args.containerId),
    bundle: args.bundle,
    gate,
    pidFile: args.pidFile,
    consoleSocket: args.consoleSocket,
    noPivot: args.noPivot,
    preserveFds: preserveFds(args.preserveFds),
    systemdCgroup: args.systemdCgroup,
  };
}

function preserveFds(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new BerthError(`--preserve-fds: expected a count of descriptors, got ${n}`);
  return n;
}

export async function handler(args: GlobalOptions & CreationArgs): Promise<void> {
  if (args.dryRun) {
    process.stdout.write(await dryRun(creationRequest(args, 'fifo')));
    return;
  }
  const { container } = await createContainer(creationRequest(args, 'fifo'));
  // The container process now waits on exec.fifo for `start`; this process may exit.
  container.close();
}
