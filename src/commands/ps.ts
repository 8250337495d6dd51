import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'ps [args..]';
export const describe = COMMANDS['ps']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('ps');
}
