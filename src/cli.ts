// berth's command line: runc's surface, flag for flag, because engines call it that way.
//
// Start-up time is the floor of every call an engine makes, so only the module of the
// command being run is loaded; the others are known here by name and summary alone
// (enough for --help).
import yargs, { type Argv, type ArgumentsCamelCase } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BerthError } from './errors.js';
import { configureLog, log } from './log.js';
import { DEFAULT_ROOT, type GlobalOptions } from './options.js';
import { versionText } from './version.js';
import { COMMANDS } from './commands/index.js';

/** What every src/commands/<name>.ts exports. */
export interface CommandModule {
  command: string;
  describe: string;
  builder: (y: Argv<GlobalOptions>) => Argv<any>;
  handler: (args: ArgumentsCamelCase<any> & GlobalOptions) => Promise<void> | void;
  /**
   * The words after the container id are the container's command (exec): the module
   * reads its options itself, so yargs must not refuse options it sees among them.
   */
  commandAfterId?: boolean;
}


function globalOptions(y: Argv): Argv<GlobalOptions> {
  return y
    .option('root', { type: 'string', default: DEFAULT_ROOT, describe: 'directory for container state' })
    .option('log', { type: 'string', describe: 'append log entries to this file' })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'format of --log entries' })
    .option('debug', { type: 'boolean', default: false, describe: 'log debug messages' })
    .option('systemd-cgroup', { type: 'boolean', default: false, describe: 'use systemd to manage cgroups (cgroupsPath is slice:prefix:name)' })
    .option('rootless', { choices: ['true', 'false', 'auto'] as const, default: 'auto' as const, describe: 'ignore cgroup permission errors' }) as unknown as Argv<GlobalOptions>;
}

/** The command named on the command line, if any: the first word that is not an option. */
function requestedCommand(argv: string[]): string | undefined {
  const valued = new Set(['--root', '--log', '--log-format', '--rootless']);
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (valued.has(word)) { i++; continue; }
    if (word.startsWith('-')) continue;
    return word;
  }
  return undefined;
}

/** A global option's value as given (`--log FILE` or `--log=FILE`), before yargs parsed anything. */
function globalValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === name) return argv[i + 1];
    if (word.startsWith(name + '=')) return word.slice(name.length + 1);
  }
  return undefined;
}

function report(error: unknown, debug: boolean): number {
  if (error instanceof BerthError) {
    log.error(error.message);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  log.error(message);
  if (debug && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  const wanted = requestedCommand(argv);
  let parser = globalOptions(yargs(argv))
    .scriptName('berth')
    .usage('berth [global options] <command> [options]')
    .parserConfiguration({ 'dot-notation': false, 'duplicate-arguments-array': false })
    // English always, as runc: engines read these messages, and the bundle (scripts/bundle.mjs)
    // does not carry yargs's locale files, whose English entries are its built-in strings.
    .locale('en')
    .version(false)
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .help()
    .alias('help', 'h')
    .strictCommands()
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns ?? 100));

  let exitCode = 0;
  // The first usage error yargs reports. yargs goes on to run the command's handler
  // after one (a missing container id included), so the handler checks it first.
  let failed: string | undefined;
  for (const [name, describe] of Object.entries(COMMANDS)) {
    if (name !== wanted) {
      parser = parser.command(name, describe);
      continue;
    }
    const mod = (await import(`./commands/${name}.js`)) as CommandModule;
    const build = (y: Argv) => {
      const built = mod.builder(y as Argv<GlobalOptions>);
      return mod.commandAfterId ? built : built.strict();
    };
    parser = parser.command(mod.command, mod.describe, build, async (args) => {
      if (failed !== undefined) return;
      const globals = args as unknown as ArgumentsCamelCase<any> & GlobalOptions;
      configureLog({ file: globals.log, format: globals.logFormat, debug: globals.debug });
      try {
        await mod.handler(globals);
      } catch (error) {
        exitCode = report(error, globals.debug);
      }
    });
  }

  parser = parser.fail((msg, err) => {
    failed ??= msg ?? err?.message ?? 'invalid arguments';
  });
  const parsed = await parser.parseAsync();
  if (failed !== undefined) {
    // Usage errors still reach --log, where engines look for them.
    const format = globalValue(argv, '--log-format') === 'json' ? 'json' : 'text';
    configureLog({ file: globalValue(argv, '--log'), format, debug: false });
    log.error(failed);
    return 1;
  }
  if (parsed.version) {
    process.stdout.write(await versionText());
    return 0;
  }
  if (wanted === undefined) {
    parser.showHelp();
    return 1;
  }
  return exitCode;
}

export async function runCli(): Promise<void> {
  process.exitCode = await main(hideBin(process.argv));
}
