import type { Argv } from 'yargs';
import { loadConfig } from '../config/load.js';
import type { GlobalOptions } from '../options.js';
import { COMMANDS } from './index.js';

export const command = 'validate';
export const describe = COMMANDS['validate']!;

export const builder = (y: Argv) =>
  y
    .option('bundle', { alias: 'b', type: 'string', describe: 'path to the bundle (default: the current directory)' })
    .example('$0 validate --bundle /containers/redis', 'check /containers/redis/config.json');

/**
 * Check config.json as `create` would, without touching the system: silent and exit 0
 * when valid, every problem (one per line) and exit 1 when not. Warnings go to stderr.
 */
export function handler(args: GlobalOptions & { bundle?: string }): void {
  loadConfig(args.bundle ?? process.cwd(), { systemdCgroup: args.systemdCgroup });
}
