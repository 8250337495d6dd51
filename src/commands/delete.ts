import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'delete [args..]';
export const describe = COMMANDS['delete']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('delete');
}
