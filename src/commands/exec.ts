// berth exec: a new process in a running container, with runc's flags, because engines
// call it exactly as they call runc (conmon: `exec --detach --pid-file F --process P.json
// [--console-socket S] ID`).
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BerthError } from '../errors.js';
import type { GlobalOptions } from '../options.js';
import { execProcess, foreground, processFromFile, processFromFlags, refuseLabelFlags, type ProcessFlags } from '../runtime/exec-process.js';
import { COMMANDS } from './index.js';

export const command = 'exec <container-id> [command..]';
/** Options after the container id are the command's (`exec ID id -G`): see runcArgs. */
export const commandAfterId = true;
export const describe = COMMANDS['exec']!;

export const builder = (y: Argv<GlobalOptions>) =>
  y
    // Repeated options (--env, --cap, --additional-gids) accumulate.
    .parserConfiguration({ 'dot-notation': false, 'duplicate-arguments-array': true })
    .positional('container-id', { type: 'string', demandOption: true })
    .positional('command', { type: 'string', array: true, describe: 'the program to run and its arguments' })
    .option('process', { alias: 'p', type: 'string', describe: 'a process.json (config.json\'s process) to run instead of the command' })
    .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'return once the process has started' })
    .option('pid-file', { type: 'string', describe: "file to write the process's host pid to" })
    .option('console-socket', { type: 'string', describe: 'unix socket that receives the pty master (--tty)' })
    .option('cwd', { type: 'string', describe: 'working directory in the container' })
    .option('env', { alias: 'e', type: 'string', describe: 'add an environment variable NAME=VALUE (repeatable)' })
    .option('user', { alias: 'u', type: 'string', describe: 'uid[:gid] to run as' })
    .option('additional-gids', { alias: 'g', type: 'string', describe: 'an additional gid (repeatable)' })
    .option('tty', { alias: 't', type: 'boolean', describe: 'give the process a terminal' })
    .option('cap', { alias: 'c', type: 'string', describe: 'add a capability to every set (repeatable)' })
    .option('no-new-privs', { type: 'boolean', describe: 'set no_new_privs for the process' })
    .option('preserve-fds', { type: 'number', default: 0, describe: 'pass this many fds (from 3 up) into the process' })
    .option('apparmor', { type: 'string', describe: 'AppArmor profile for the process (not supported)' })
    .option('process-label', { type: 'string', describe: 'SELinux label for the process (not supported)' })
    .option('ignore-paused', { type: 'boolean', default: false, describe: 'exec even if the container is paused' });

export interface ExecArgs extends ProcessFlags {
  containerId: string;
  command?: string[];
  process?: string;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  ignorePaused: boolean;
}

/** Global options that take a value, which may also follow the command word. */
const GLOBAL_VALUED = ['root', 'log', 'log-format', 'rootless'];

/**
 * runc (urfave/cli) stops reading options at the container id, so in `exec ID sh -c 'exit
 * 7'` the `-c` belongs to sh; yargs would read it as --cap. So the words are split at the
 * id: the options before it are parsed again on their own, the words after it are the
 * command as given.
 */
export function splitAtContainerId(words: readonly string[]): { options: string[]; command: string[] } | null {
  const declared = (builder(yargs([]) as unknown as Argv<GlobalOptions>) as unknown as { getOptions(): { string: string[]; number: string[] } }).getOptions();
  const valued = new Set([...declared.string, ...declared.number, ...GLOBAL_VALUED]);
  const takesValue = (word: string) => {
    if (word.startsWith('--')) return !word.includes('=') && valued.has(word.slice(2));
    return valued.has(word.slice(-1)); // -dp FILE: the last short flag takes the value
  };
  let execAt = -1;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith('-') && word !== '-' && word !== '--') {
      if (takesValue(word)) i++;
      continue;
    }
    if (execAt < 0) {
      // The first word that is not an option is the command: exec, or not ours.
      if (word !== 'exec') return null;
      execAt = i;
      continue;
    }
    const rest = words.slice(i + 1);
    return { options: words.slice(execAt + 1, i), command: rest[0] === '--' ? rest.slice(1) : rest };
  }
  return null;
}

/** The exec options as runc reads them: only those before the container id. */
async function runcArgs(args: GlobalOptions & ExecArgs): Promise<GlobalOptions & ExecArgs> {
  const split = splitAtContainerId(hideBin(process.argv));
  if (!split || split.command.length === 0) return args;
  const options = await builder(yargs(split.options) as unknown as Argv<GlobalOptions>).help(false).version(false).parseAsync();
  const own = Object.fromEntries(Object.entries(options).filter(([key]) => key !== '_' && key !== '$0'));
  const globals: GlobalOptions = {
    root: args.root, log: args.log, logFormat: args.logFormat, debug: args.debug, systemdCgroup: args.systemdCgroup, rootless: args.rootless,
  };
  return { ...globals, ...own, containerId: args.containerId, command: split.command } as GlobalOptions & ExecArgs;
}

export async function handler(parsed: GlobalOptions & ExecArgs): Promise<void> {
  const args = await runcArgs(parsed);
  const id = String(args.containerId);
  refuseLabelFlags(args);
  if (!Number.isInteger(args.preserveFds) || args.preserveFds < 0) {
    throw new BerthError(`--preserve-fds: expected a count of descriptors, got ${args.preserveFds}`);
  }
  const started = await execProcess({
    root: args.root,
    id,
    process: (config) => (args.process ? processFromFile(args.process) : processFromFlags(config, args.command ?? [], args)),
    preserveFds: args.preserveFds,
    consoleSocket: args.consoleSocket,
    pidFile: args.pidFile,
    detach: args.detach,
    ignorePaused: args.ignorePaused,
  });
  if (args.detach) return;
  // The process's status is the command's status (128+N when signal N killed it).
  process.exit(await foreground(started));
}
