import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'list [args..]';
export const describe = COMMANDS['list']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('list');
}
