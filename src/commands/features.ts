import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'features [args..]';
export const describe = COMMANDS['features']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('features');
}
