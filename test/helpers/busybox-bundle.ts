// An OCI bundle for integration tests, built offline: a rootfs holding the static
// busybox with the applet symlinks a test needs, and berth spec's config adjusted
// (no terminal, the given args).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { berth } from './berth.js';

const APPLETS = ['sh', 'echo', 'cat', 'ls', 'id', 'hostname', 'sleep', 'true', 'false', 'kill', 'ps', 'env', 'test', 'mkdir'];

export interface Bundle {
  dir: string;
  rootfs: string;
  config: Record<string, any>;
  /** Write config back to config.json after a test changed it. */
  save(): void;
}

/** A bundle removed when the test ends. */
export function busyboxBundle(t: Test, args: string[], tweak: (config: Record<string, any>) => void = () => {}): Bundle {
  const bundle = makeBusyboxBundle(args, tweak);
  t.teardown(() => rmSync(bundle.dir, { recursive: true, force: true }));
  return bundle;
}

/** A bundle that the caller removes. */
export function makeBusyboxBundle(args: string[], tweak: (config: Record<string, any>) => void = () => {}): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bundle-'));
  const rootfs = join(dir, 'rootfs');
  for (const sub of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, sub), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', applet));

  const spec = berth(['spec', '--bundle', dir]);
  if (spec.status !== 0) throw new Error(`berth spec failed: ${spec.stderr}`);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = args;
  tweak(config);
  const bundle = { dir, rootfs, config, save: () => writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2)) };
  bundle.save();
  return bundle;
}
