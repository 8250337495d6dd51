import type { Argv } from 'yargs';
import { BerthError } from '../errors.js';
import { changeContainer } from '../cgroups/container.js';
import type { GlobalOptions } from '../options.js';
import { COMMANDS } from './index.js';

export const command = 'resume <container-id>';
export const describe = COMMANDS['resume']!;
export const builder = (y: Argv) => y.positional('container-id', { type: 'string', demandOption: true });

export function handler(args: GlobalOptions & { containerId: string }): void {
  changeContainer(args.root, String(args.containerId), ({ status, cgroups }) => {
    if (status !== 'paused') throw new BerthError(`container ${args.containerId} is not paused`);
    cgroups.thaw();
  });
}
