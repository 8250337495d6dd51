// A runtime driven under a --root of its own, so that berth and runc (or one test's
// hundreds of containers) never share, and never see each other's, state.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueId, type Bundle, type HasTeardown, type Result, type Runtime } from './bundle.js';

export interface RootedRuntime {
  runtime: Runtime;
  /** The --root directory, removed when the test ends. */
  root: string;
  /** Runs the runtime with `--root <root>` and `args`; a timeout kills it and shows in `signal`. */
  call(args: readonly string[], options?: { input?: string; timeoutMs?: number }): Result;
  /** `run` of the bundle in the foreground under a fresh id, then `delete --force` of that id. */
  run(bundle: Bundle, timeoutMs?: number): Result & { id: string };
}

export function withOwnRoot(t: HasTeardown, runtime: Runtime): RootedRuntime {
  const root = mkdtempSync(join(tmpdir(), `berth-root-${runtime.name}-`));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const call: RootedRuntime['call'] = (args, options = {}) => {
    const [file, ...pre] = runtime.argv;
    const r = spawnSync(file!, [...pre, '--root', root, ...args], {
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
      input: options.input ?? '',
    });
    const command = [runtime.name, '--root', root, ...args].join(' ');
    const stderr = String(r.stderr ?? '') + (r.error ? `\n(${command}: ${r.error.message})` : '');
    return { status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr, command };
  };
  return {
    runtime,
    root,
    call,
    run(bundle, timeoutMs) {
      const id = uniqueId(runtime.name);
      try {
        return { ...call(['run', '--bundle', bundle.dir, id], { timeoutMs }), id };
      } finally {
        call(['delete', '--force', id], { timeoutMs: 15_000 });
      }
    },
  };
}
