import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'create [args..]';
export const describe = COMMANDS['create']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('create');
}
