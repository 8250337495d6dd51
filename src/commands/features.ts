import type { Argv } from 'yargs';
import type { GlobalOptions } from '../options.js';
import { features } from '../features.js';
import { COMMANDS } from './index.js';

export const command = 'features';
export const describe = COMMANDS['features']!;
export const builder = (y: Argv<GlobalOptions>) => y;

export function handler(): void {
  process.stdout.write(JSON.stringify(features(), null, 2) + '\n');
}
