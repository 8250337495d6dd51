import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'start [args..]';
export const describe = COMMANDS['start']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('start');
}
