// The executor: turns a Plan into a child process that runs the plan's steps as a
// native libc call chain (clone + setcontext + makecontext), reads every step's report,
// and fails closed. See ../shared/design/process-creation.md and ./steps.ts.
//
// Contract for callers (create, run, exec):
//
//   const child = spawn(plan, { stdio: [0, 1, 2], preserveFds: 0 });
//   // the child waits; the parent may now place child.pid in cgroups, etc.
//   await child.setup();        // writes id maps, lets the steps run, reads every report
//                               // up to the gate; on a failed step: kills the child and
//                               // throws a StepError naming the step, field and errno
//   child.verify();             // compares /proc/<pid>/status with plan.expect (throws)
//   child.release();            // gate 'pipe' only: lets the child exec
//   const status = await child.wait();   // when the caller is the child's parent
//
// On any error before release, the caller calls child.kill() (idempotent; reaps).
import { notImplemented } from '../errors.js';
import type { Plan, Step } from './steps.js';

export interface SpawnOptions {
  /** Host fds that become the child's 0, 1, 2. */
  stdio: [number, number, number];
  /** Host fds 3..3+preserveFds-1 passed through to the container unchanged. */
  preserveFds: number;
}

export interface Child {
  readonly pid: number;
  setup(): Promise<void>;
  verify(): void;
  release(): void;
  kill(): void;
  /** Exit status in the shell's convention: code, or 128+signal. */
  wait(): Promise<number>;
}

/** A step that reported an errno that is not in its `ok` list. */
export class StepError extends Error {
  constructor(
    readonly step: Step,
    readonly index: number,
    readonly errno: number,
    message: string,
  ) {
    super(message);
    this.name = 'StepError';
  }
}

export function spawn(_plan: Plan, _options: SpawnOptions): Child {
  notImplemented('spawn');
}

/** The plan as text: one line per step, the exact calls in order (`--dry-run`). */
export function formatPlan(_plan: Plan): string {
  notImplemented('formatPlan');
}
