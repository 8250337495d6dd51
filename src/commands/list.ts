import { statSync, readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import type { GlobalOptions } from '../options.js';
import { BerthError } from '../errors.js';
import { ociState, StateStore, type OciState } from '../state/index.js';
import { COMMANDS } from './index.js';

export const command = 'list';
export const describe = COMMANDS['list']!;
export const builder = (y: Argv<GlobalOptions>) =>
  y
    .option('format', { alias: 'f', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'output format' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only the container ids' });

interface Listed {
  state: OciState;
  /** The user owning the state directory, by name (runc's OWNER column). */
  ownerName: string;
}

export function handler(args: GlobalOptions & { format: 'table' | 'json'; quiet: boolean }): void {
  const listed = listContainers(new StateStore(args.root));
  if (args.quiet) {
    process.stdout.write(listed.map((c) => c.state.id + '\n').join(''));
  } else if (args.format === 'json') {
    process.stdout.write(JSON.stringify(listed.map((c) => ({ ...c.state, owner: c.ownerName }))) + '\n');
  } else {
    process.stdout.write(table(listed));
  }
}

function listContainers(store: StateStore): Listed[] {
  const names = userNames();
  const listed: Listed[] = [];
  for (const id of store.ids()) {
    let container;
    try {
      container = store.open(id, 'none');
    } catch (error) {
      // Deleted meanwhile, or a directory that is no container (a stray name): skip it.
      if (error instanceof BerthError) continue;
      throw error;
    }
    try {
      const record = container.read();
      const uid = statSync(container.dir).uid;
      listed.push({ state: ociState(record, container.status(record)), ownerName: names.get(uid) ?? `#${uid}` });
    } catch (error) {
      if (!(error instanceof BerthError)) throw error;
    } finally {
      container.close();
    }
  }
  return listed;
}

/** uid -> user name from /etc/passwd (no NSS: a listing must not hang on a directory service). */
function userNames(): Map<number, string> {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , uid] = line.split(':');
      if (name && uid !== undefined && !names.has(Number(uid))) names.set(Number(uid), name);
    }
  } catch {
    // No passwd file: owners show as #uid.
  }
  return names;
}

/** runc's layout (Go tabwriter: minimum width 12, padding 3). */
function table(listed: Listed[]): string {
  const rows = [
    ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
    ...listed.map(({ state, ownerName }) => [state.id, String(state.pid), state.status, state.bundle, state.created, ownerName]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(12, ...rows.map((row) => row[col]!.length + 3)));
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('') + '\n').join('');
}
