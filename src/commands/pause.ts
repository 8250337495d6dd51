import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'pause [args..]';
export const describe = COMMANDS['pause']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('pause');
}
