import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'update [args..]';
export const describe = COMMANDS['update']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('update');
}
