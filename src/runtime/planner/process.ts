// STAND-IN, owned by the planproc branch: the smallest process planner that lets the
// planfs branch compile and test plan(). On merge, planproc's process.ts replaces this
// file whole; only the exported names below are relied upon by index.ts.
import type { Config } from '../../config/types.js';
import type { Expectations, FdLayout, Step } from '../steps.js';

export interface ProcessHostFacts {
  /** Absolute path of the executable inside the container. */
  executable: string;
}

export interface ProcessContext {
  fds: FdLayout;
  userNamespace: boolean;
  mode: 'create' | 'exec';
  host: ProcessHostFacts;
}

export interface ProcessPlan {
  steps: Step[];
  exec: Step;
  expect: Expectations;
}

export function planProcess(config: Config, ctx: ProcessContext): ProcessPlan {
  const p = (config as unknown as { process?: { args?: string[]; env?: string[] } }).process ?? {};
  return {
    steps: [],
    exec: { call: 'execve', args: [ctx.host.executable, { strings: p.args ?? [] }, { strings: p.env ?? [] }], what: `execve ${ctx.host.executable}`, field: 'process.args' },
    expect: {},
  };
}
