// The collaborators create and run need that are still being written on other branches:
// the config loader (src/config/load.ts), the planner (src/runtime/planner/index.ts).
// They are reached by module name at run time, with their documented signatures here,
// so that the lifecycle compiles and is tested as soon as they land in main.
// TODO(lead): once both are merged, import them directly and delete this file.
import { BerthError } from '../errors.js';
import type { Config } from '../config/types.js';
import type { Gate, Plan } from './steps.js';

/** What the planner learns about the host before it plans (opaque to the lifecycle). */
export interface HostFacts {
  fs: unknown;
  process: unknown;
}

export interface PlanRequest {
  config: Config;
  bundle: string;
  rootfs: string;
  mode: 'create' | 'exec';
  gate: Gate;
  preserveFds: number;
  noPivot: boolean;
  host: HostFacts;
  initPid?: number;
}

interface LoaderModule {
  loadConfig(bundleDir: string): Config;
}

interface PlannerModule {
  plan(req: PlanRequest): Plan;
}

interface FsHostModule {
  gatherFsHostFacts(config: Config, bundle: string, rootfs: string): Promise<unknown>;
}

interface ProcessHostModule {
  gatherProcessHostFacts(config: Config, rootfs: string): Promise<unknown>;
}

async function load<T>(path: string, what: string): Promise<T> {
  try {
    return (await import(path)) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') throw new BerthError(`${what}: not implemented yet`, { exitCode: 2 });
    throw error;
  }
}

export function loader(): Promise<LoaderModule> {
  return load<LoaderModule>(['..', 'config', 'load.js'].join('/'), 'config loading');
}

export function planner(): Promise<PlannerModule> {
  return load<PlannerModule>(['.', 'planner', 'index.js'].join('/'), 'the planner');
}

/** Everything the planner needs to know about the host for this config. */
export async function gatherHostFacts(config: Config, bundle: string, rootfs: string): Promise<HostFacts> {
  const fsHost = await load<FsHostModule>(['.', 'planner', 'fs-host.js'].join('/'), 'the planner');
  const processHost = await load<ProcessHostModule>(['.', 'planner', 'process-host.js'].join('/'), 'the planner');
  return { fs: await fsHost.gatherFsHostFacts(config, bundle, rootfs), process: await processHost.gatherProcessHostFacts(config, rootfs) };
}
