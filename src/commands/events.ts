import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'events [args..]';
export const describe = COMMANDS['events']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('events');
}
