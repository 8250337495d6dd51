import type { Argv } from 'yargs';
import { BerthError } from '../errors.js';
import { runningCgroups } from '../cgroups/container.js';
import type { GlobalOptions } from '../options.js';
import { COMMANDS } from './index.js';

export const command = 'resume <container-id>';
export const describe = COMMANDS['resume']!;
export const builder = (y: Argv) => y.positional('container-id', { type: 'string', demandOption: true });

export function handler(args: GlobalOptions & { containerId: string }): void {
  const cg = runningCgroups(args.root, args.containerId);
  if (!cg.isPaused()) throw new BerthError(`container ${args.containerId} is not paused`);
  cg.thaw();
}
