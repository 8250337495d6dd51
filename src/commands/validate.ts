import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'validate [args..]';
export const describe = COMMANDS['validate']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('validate');
}
