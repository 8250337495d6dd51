import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'resume [args..]';
export const describe = COMMANDS['resume']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('resume');
}
