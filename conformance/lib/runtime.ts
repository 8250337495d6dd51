// The runtime under test, driven through runc's command line only.
//
// RUNTIME names it: unset or "berth" is this repository's CLI, any other bare name is
// looked up in PATH ("runc", "crun"), and a path is used as is.
import { spawnSync, type StdioOptions } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is compiled to dist/conformance/lib/). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface Runtime {
  /** Short name for reports: berth, runc, crun. */
  name: string;
  /** What to execute: argv[0] and the words before the runtime's own arguments. */
  argv: string[];
}

/** Finds `name` in PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function resolveRuntime(spec = process.env['RUNTIME'] ?? 'berth'): Runtime {
  if (spec === 'berth') return { name: 'berth', argv: [process.execPath, join(REPO, 'bin', 'berth.js')] };
  if (spec.includes('/')) return { name: basename(spec), argv: [spec] };
  const found = which(spec);
  if (!found) throw new Error(`runtime ${spec} not found in PATH`);
  return { name: spec, argv: [found] };
}

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The command line, for failure messages. */
  command: string;
}

export interface RunOptions {
  /** Defaults to pipes; `create` needs files (the container keeps its stdio open). */
  stdio?: StdioOptions;
  input?: string;
  timeoutMs?: number;
  /** Passed as --log; the runtime appends its errors there. */
  log?: string;
  /** Another runtime than RUNTIME's (the benchmark drives several in one process). */
  runtime?: Runtime;
}

let stateRoot: string | undefined;

/** This process's --root: a fresh directory, so runs never see each other's containers. */
export function stateRootDir(): string {
  if (stateRoot) return stateRoot;
  const dir = mkdtempSync(join(tmpdir(), 'berth-conformance-root-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  stateRoot = dir;
  return dir;
}

const resolved = new Map<string, Runtime>();

/** The runtime RUNTIME names now (read on every call, so a test may switch it). */
export function runtimeUnderTest(): Runtime {
  const spec = process.env['RUNTIME'] ?? 'berth';
  let rt = resolved.get(spec);
  if (!rt) resolved.set(spec, (rt = resolveRuntime(spec)));
  return rt;
}

/** Runs the runtime under test with `--root <this process's root>` and `args`. */
export function runtime(args: readonly string[], options: RunOptions = {}): Result {
  const rt = options.runtime ?? runtimeUnderTest();
  const globals = ['--root', stateRootDir(), ...(options.log ? ['--log', options.log] : [])];
  const [file, ...pre] = rt.argv;
  const argv = [...pre, ...globals, ...args];
  const r = spawnSync(file!, argv, {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
    input: options.input,
    stdio: options.stdio ?? ['pipe', 'pipe', 'pipe'],
  });
  const command = [rt.name, ...globals, ...args].join(' ');
  const stderr = String(r.stderr ?? '') + (r.error ? `\n(${command}: ${r.error.message})` : '');
  return { status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr, command };
}
