// OCI hooks (runtime-spec config.md "POSIX-platform Hooks", runtime.md "Lifecycle"):
// each hook is an executable run in the runtime's namespaces with the container's state
// JSON on its stdin. A hook that fails or outlives its timeout is an error that names it
// (`hooks.createRuntime[0]: /x exited with status 3: <stderr>`); the caller decides
// whether that aborts the operation (prestart, createRuntime, ...) or is only a warning
// (poststart, poststop).
import { spawn } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import type { Config } from '../config/types.js';
import { BerthError } from '../errors.js';
import { log } from '../log.js';
import type { OciState } from '../state/index.js';

export type HookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export type Hooks = NonNullable<Config['hooks']>;
type Hook = NonNullable<Hooks[HookName]>[number];

/** How much of a failing hook's output an error quotes: enough to see why, not a flood. */
const OUTPUT_TAIL = 512;

/**
 * Where a hook runs: in the runtime's namespaces with this working directory, or in the
 * container's namespaces (entered with nsenter(1)) with the container process's working
 * directory and, once it has pivoted (startContainer), its root too, so that the hook's
 * path resolves in the container; before that (createContainer) the root is still the
 * runtime's, where the path resolves (runtime.md, config.md "createContainer Hooks").
 */
export type HookPlace = { cwd: string } | { containerPid: number; pivoted: boolean };

/** Run every hook of one kind in order; the first failure throws a BerthError naming it. */
export async function runHooks(name: HookName, hooks: Hooks | undefined, state: OciState, place: HookPlace): Promise<void> {
  const list = hooks?.[name] ?? [];
  for (const [index, hook] of list.entries()) {
    const label = `hooks.${name}[${index}]`;
    log.debug(`running ${label}: ${hook.path}`);
    const failure = await runHook(hook, JSON.stringify(state), place);
    if (failure) throw new BerthError(`${label}: ${hook.path} ${failure}`);
  }
}

/** Run hooks whose failure the spec says must not fail the operation: each failure is a warning. */
export async function runHooksWarning(name: HookName, hooks: Hooks | undefined, state: OciState, place: HookPlace): Promise<void> {
  const list = hooks?.[name] ?? [];
  for (const [index, hook] of list.entries()) {
    const failure = await runHook(hook, JSON.stringify(state), place);
    if (failure) log.warn(`hooks.${name}[${index}]: ${hook.path} ${failure}`);
  }
}

/** Why the hook failed ("exited with status 3: ..."), or null when it succeeded. */
function runHook(hook: Hook, stdin: string, place: HookPlace): Promise<string | null> {
  return new Promise((resolve) => {
    const { file, args, argv0, cwd } = command(hook, place);
    const child = spawn(file, args, {
      argv0,
      env: envObject(hook.env ?? []),
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, so a timeout kills whatever the hook started too.
      detached: true,
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    // A hook that does not read its stdin must not fail because of EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);

    let timedOut = false;
    const timer =
      hook.timeout === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup(child.pid);
          }, hook.timeout * 1000);

    const tail = () => (output.trim() ? `: ${output.trim()}` : '');
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(`could not be run: ${error.code ?? error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve(`timed out after ${hook.timeout} s and was killed${tail()}`);
      else if (signal) resolve(`was killed by ${signal}${tail()}`);
      else if (code !== 0) resolve(`exited with status ${code}${tail()}`);
      else resolve(null);
    });
  });
}

/** What to execute for a hook at its place. */
function command(hook: Hook, place: HookPlace): { file: string; args: string[]; argv0: string; cwd?: string } {
  const args = hook.args ?? [hook.path];
  if ('cwd' in place) return { file: hook.path, args: args.slice(1), argv0: args[0] ?? hook.path, cwd: place.cwd };
  const pid = String(place.containerPid);
  const root = place.pivoted ? ['--root'] : [];
  // nsenter execs the hook itself, so the hook's args[0] becomes its path.
  return { file: nsenter(), args: ['--target', pid, ...namespaceFlags(place.containerPid), ...root, '--wd', '--', hook.path, ...args.slice(1)], argv0: 'nsenter' };
}

const NSENTER_FLAGS: Record<string, string> = {
  user: '--user', mnt: '--mount', uts: '--uts', ipc: '--ipc', net: '--net', pid: '--pid', cgroup: '--cgroup', time: '--time',
};

/** nsenter flags for each namespace the container does not share with berth. */
function namespaceFlags(pid: number): string[] {
  return Object.entries(NSENTER_FLAGS)
    .filter(([ns]) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/${ns}`) !== readlinkSync(`/proc/self/ns/${ns}`);
      } catch {
        return false;
      }
    })
    .map(([, flag]) => flag);
}

/** util-linux's nsenter (essential on Debian); the hook's env has no PATH to find it by. */
function nsenter(): string {
  const found = ['/usr/bin/nsenter', '/bin/nsenter', '/usr/sbin/nsenter'].find((path) => existsSync(path));
  if (!found) throw new BerthError('hooks: nsenter (util-linux) is needed to run createContainer and startContainer hooks in the container');
  return found;
}

/** The hook's env exactly as given: no variable of berth's own leaks into it. */
function envObject(env: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of env) {
    const eq = entry.indexOf('=');
    if (eq > 0) result[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return result;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
