// OCI bundles for tests, built offline: a busybox rootfs plus the default config.json
// with a test's changes applied; and the runtime calls a test makes on them.
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPatch, defaultConfig, type OciConfig, type Patch } from './default-config.js';
import { copyRootfs, templateRootfs } from './rootfs.js';
import { runtime, type Result, type RunOptions } from './runtime.js';

export { applyPatch, defaultConfig, type OciConfig, type Patch } from './default-config.js';
export { buildRootfs, templateRootfs, APPLETS } from './rootfs.js';
export { runtime, runtimeUnderTest, resolveRuntime, stateRootDir, which, REPO, type Result, type Runtime, type RunOptions } from './runtime.js';

export interface BundleOptions {
  /** The container's command (process.args). */
  args?: string[];
  /** Mounts added after the default ones (so /proc and /dev stay). */
  mounts?: Record<string, unknown>[];
  /** Deep-merged into the default config (see applyPatch). */
  patch?: Patch;
  /** Last word on the config: edit it in place or return a new one. */
  edit?: (config: OciConfig) => OciConfig | void;
  /**
   * `copy` (default): a private rootfs in the bundle. `shared`: the process-wide
   * template by absolute path, read-only; for containers that write nothing to it.
   */
  rootfs?: 'copy' | 'shared';
}

export interface Bundle {
  /** The bundle directory (holds config.json and, with rootfs 'copy', rootfs/). */
  dir: string;
  /** A container id no other bundle in any process uses. */
  id: string;
  /** The host path of the rootfs. */
  rootfs: string;
  config: OciConfig;
  /** Rewrites config.json from `config` (after a test changed it). */
  write(): void;
  /** A path inside the bundle directory, for files that hooks and containers write. */
  path(name: string): string;
  /** Force-deletes the container (if any) and removes the bundle. Idempotent. */
  cleanup(): void;
}

let counter = 0;

/** A unique container id: safe characters only, short enough for any runtime. */
export function uniqueId(prefix = 'conf'): string {
  return `${prefix}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`;
}

export function makeBundle(options: BundleOptions = {}): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bundle-'));
  // Searchable by all: a container whose root is an unmapped host uid (user namespaces)
  // must still reach its rootfs through this directory.
  chmodSync(dir, 0o755);
  let rootfs: string;
  let config = defaultConfig();
  if (options.rootfs === 'shared') {
    rootfs = templateRootfs();
    config['root'] = { path: rootfs, readonly: true };
  } else {
    rootfs = join(dir, 'rootfs');
    copyRootfs(rootfs);
  }
  if (options.args) config['process'].args = options.args;
  if (options.mounts) config['mounts'].push(...structuredClone(options.mounts));
  if (options.patch) applyPatch(config, options.patch);
  if (options.edit) config = options.edit(config) ?? config;

  const bundle: Bundle = {
    dir,
    id: uniqueId(),
    rootfs,
    config,
    write: () => writeFileSync(join(dir, 'config.json'), JSON.stringify(bundle.config, null, 2)),
    path: (name) => join(dir, name),
    cleanup: () => {
      if (existsSync(dir)) {
        runtime(['delete', '--force', bundle.id], { timeoutMs: 15_000 });
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  bundle.write();
  return bundle;
}

/** Anything with tap's teardown, so helpers need not import tap. */
export interface HasTeardown {
  teardown(fn: () => void | Promise<void>): void;
}

/** makeBundle, cleaned up when the test `t` ends. */
export function bundleFor(t: HasTeardown, options: BundleOptions = {}): Bundle {
  const b = makeBundle(options);
  t.teardown(() => b.cleanup());
  return b;
}

/** `RUNTIME run` of the bundle in the foreground: the container's output and exit status. */
export function runToCompletion(bundle: Bundle, id = bundle.id, timeoutMs = 30_000): Result {
  const r = runtime(['run', '--bundle', bundle.dir, id], { input: '', timeoutMs });
  runtime(['delete', '--force', id], { timeoutMs: 15_000 });
  return r;
}

/**
 * `RUNTIME create`. The container's stdout and stderr go to files in the bundle
 * (container.out, container.err), because the container keeps them open after create
 * returns; the runtime's own messages land there too.
 */
export function create(bundle: Bundle, extra: string[] = [], options: RunOptions = {}): Result {
  const out = openSync(bundle.path('container.out'), 'a');
  const err = openSync(bundle.path('container.err'), 'a');
  try {
    const r = runtime(['create', ...extra, '--bundle', bundle.dir, bundle.id], { ...options, stdio: ['ignore', out, err] });
    return { ...r, stdout: readText(bundle.path('container.out')), stderr: readText(bundle.path('container.err')) };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The runtime's `state` output, parsed; undefined when the command fails. */
export function state(id: string): Record<string, any> | undefined {
  const r = runtime(['state', id]);
  if (r.status !== 0) return undefined;
  try {
    return JSON.parse(r.stdout);
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `state` until the container has `status`; returns the last state seen. */
export async function waitForStatus(id: string, status: string, timeoutMs = 10_000): Promise<Record<string, any> | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = state(id);
  while (last?.['status'] !== status && Date.now() < deadline) {
    await sleep(50);
    last = state(id);
  }
  return last;
}

/** Polls for a file to exist (a hook or container signalling that it ran). */
export async function waitForFile(path: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

/** A one-line summary of a failed runtime call, for assertion messages. */
export function describeResult(r: Result): string {
  const how = r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
  return `${r.command}: ${how}; stderr: ${r.stderr.trim().slice(0, 400)}`;
}
