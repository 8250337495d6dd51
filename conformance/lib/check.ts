// Shorthands for the suite's tests: run a container, look at what it printed.
import type { Test } from 'tap';
import { bundleFor, describeResult, makeBundle, runToCompletion, type BundleOptions, type HasTeardown, type Result } from './bundle.js';

/** process.args for a busybox shell script. */
export const sh = (script: string): string[] => ['sh', '-c', script];

/** Makes a bundle (cleaned up with `t`), runs it to completion and returns what happened. */
export function runContainer(t: HasTeardown, options: BundleOptions): Result {
  return runToCompletion(bundleFor(t, options));
}

/** Asserts that the container ran and exited 0; says why not, with the runtime's stderr. */
export function ranOk(t: Test, r: Result): boolean {
  t.equal(r.status, 0, r.status === 0 ? 'the container ran and exited 0' : describeResult(r));
  return r.status === 0;
}

/** `key: value` lines (as in /proc/self/status) as a map. */
export function fields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([^:=]+)[:=]\s*(.*)$/.exec(line);
    if (m) out[m[1]!.trim()] = m[2]!.trim();
  }
  return out;
}

let baseline: Result | undefined;

/**
 * For tests of refusals (an error is the requirement): asserts first that the runtime
 * can run a minimal container at all, because a runtime that cannot run anything
 * "errors" on everything and would pass such tests for the wrong reason.
 */
export function canRunBaseline(t: Test): boolean {
  if (!baseline) {
    const b = makeBundle({ rootfs: 'shared', args: ['true'] });
    try {
      baseline = runToCompletion(b);
    } finally {
      b.cleanup();
    }
  }
  if (baseline.status === 0) return true;
  t.fail(`the runtime cannot run a minimal container, so an error here proves nothing: ${describeResult(baseline)}`);
  return false;
}
