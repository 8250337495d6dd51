import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'kill [args..]';
export const describe = COMMANDS['kill']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('kill');
}
