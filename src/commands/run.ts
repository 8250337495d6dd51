import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'run [args..]';
export const describe = COMMANDS['run']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('run');
}
