import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'exec [args..]';
export const describe = COMMANDS['exec']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('exec');
}
