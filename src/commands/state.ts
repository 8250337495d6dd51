import type { Argv } from 'yargs';
import type { GlobalOptions } from '../options.js';
import { ociState, StateStore } from '../state/index.js';
import { COMMANDS } from './index.js';

export const command = 'state <container-id>';
export const describe = COMMANDS['state']!;
export const builder = (y: Argv<GlobalOptions>) => y.positional('container-id', { type: 'string', demandOption: true });

export function handler(args: GlobalOptions & { containerId: string }): void {
  const container = new StateStore(args.root).open(String(args.containerId), 'none');
  try {
    const record = container.read();
    process.stdout.write(JSON.stringify(ociState(record, container.status(record)), null, 2) + '\n');
  } finally {
    container.close();
  }
}
