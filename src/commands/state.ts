import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'state [args..]';
export const describe = COMMANDS['state']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('state');
}
