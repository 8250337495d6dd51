// Building plans in tests: host facts as a typical Debian host has them, requests
// around a config, and views of a plan's steps that are easy to assert on.
import type { Config } from '../../src/config/types.js';
import type { FsHostFacts } from '../../src/runtime/planner/fs-host.js';
import { type PlanRequest, plan } from '../../src/runtime/planner/index.js';
import { checkFds } from '../../src/runtime/planner/fd-check.js';
import type { Arg, Plan, Step } from '../../src/runtime/steps.js';

export function fsFacts(over: Partial<FsHostFacts> = {}): FsHostFacts {
  return {
    namespaces: ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'pid_for_children', 'time', 'time_for_children', 'user', 'uts'],
    sources: {},
    devices: {},
    cgroup: {
      layout: 'v2',
      hierarchies: [{ name: '', mountPoint: '/sys/fs/cgroup', fsType: 'cgroup2', options: 'nsdelegate' }],
      links: [],
    },
    mountSetattr: true,
    inUserNamespace: false,
    kcore: true,
    rootfsParentMount: '/',
    ...over,
  };
}

/** A config with the namespaces runc's default spec has, and the given fields on top. */
export function config(over: Record<string, unknown> = {}, linux: Record<string, unknown> = {}): Config {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { args: ['/bin/true'], cwd: '/', env: [] },
    ...over,
    linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }], ...linux },
  } as unknown as Config;
}

export function request(cfg: Config, over: Partial<PlanRequest> = {}, facts: Partial<FsHostFacts> = {}): PlanRequest {
  return {
    config: cfg,
    bundle: '/b',
    rootfs: '/b/rootfs',
    mode: 'create',
    gate: { kind: 'pipe' },
    preserveFds: 0,
    noPivot: false,
    host: { fs: fsFacts(facts), process: { executable: '/bin/true' } },
    ...over,
  };
}

/** plan(), with the fd invariant checked over the whole chain. */
export function planOf(cfg: Config, over: Partial<PlanRequest> = {}, facts: Partial<FsHostFacts> = {}): Plan {
  const p = plan(request(cfg, over, facts));
  checkFds(p);
  return p;
}

function show(a: Arg): string {
  if (a === null) return 'NULL';
  if (typeof a === 'string') return JSON.stringify(a);
  if (typeof a === 'number' || typeof a === 'bigint') return String(a);
  if ('bytes' in a) return `<${a.bytes.length} bytes>`;
  return JSON.stringify(a);
}

/** A step as `call(arg, ...)`: easy to compare in a list. */
export function line(s: Step): string {
  return `${s.call}(${s.args.map(show).join(', ')})`;
}

export function lines(steps: readonly Step[]): string[] {
  return steps.map(line);
}

/** The steps of one config field ("mounts[2]"). */
export function of(p: Plan, field: string): Step[] {
  return p.steps.filter((s) => s.field === field);
}

/** struct open_how / mount_attr as numbers. */
export function u64s(a: Arg): bigint[] {
  if (a === null || typeof a !== 'object' || !('bytes' in a)) throw new Error('not a struct argument');
  const view = new DataView(a.bytes.buffer, a.bytes.byteOffset, a.bytes.byteLength);
  return Array.from({ length: a.bytes.length / 8 }, (_, i) => view.getBigUint64(i * 8, true));
}
