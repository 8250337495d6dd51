import type { Argv } from 'yargs';
import { notImplemented } from '../errors.js';
import { COMMANDS } from './index.js';

export const command = 'spec [args..]';
export const describe = COMMANDS['spec']!;
export const builder = (y: Argv) => y;
export function handler(): never {
  notImplemented('spec');
}
