// berth as podman's OCI runtime: the calls an engine makes (create --bundle --pid-file
// [--console-socket], start, kill, delete --force) with podman's own configs. Podman runs
// with storage of its own in a temp dir, so the host's images and containers are untouched.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH } from './helpers/berth.js';
import { makeBundle } from './helpers/bundle.js';
import { uniqueId } from './helpers/state.js';

const work = mkdtempSync(join(tmpdir(), 'berth-podman-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const runtime = join(work, 'berth-runtime');
writeFileSync(runtime, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BERTH)} "$@"\n`);
chmodSync(runtime, 0o755);

// The sandbox a test may run in can lack CAP_SYS_RESOURCE: ask for limits below the
// current hard ones instead of podman's defaults (which runc cannot set there either).
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
const image = `localhost/berth-test-${uniqueId('img').toLowerCase()}`;

function podman(args: string[], input?: string) {
  const global = ['--root', join(work, 'storage'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', '--runtime', runtime, '--events-backend', 'none'];
  const r = spawnSync('podman', [...global, ...args], { encoding: 'utf8', timeout: 120_000, input });
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), error: r.error };
}

const present = spawnSync('podman', ['--version']).status === 0;
const bundle = makeBundle({ args: ['true'] });
t.teardown(() => rmSync(bundle.dir, { recursive: true, force: true }));
const tar = join(work, 'rootfs.tar');
const imported = present && spawnSync('tar', ['-C', bundle.rootfs, '-cf', tar, '.']).status === 0 ? podman(['import', tar, image]) : null;
const probe = imported?.status === 0 ? podman(['run', '--rm', ...LIMITS, image, 'true']) : null;

if (!present) {
  t.plan(0, 'podman is not installed');
} else if (/not implemented yet/.test(probe?.stderr ?? '')) {
  t.plan(0, `containers cannot run in this build yet: ${probe!.stderr.trim()}`);
} else {
  t.equal(imported?.status, 0, `podman import: ${imported?.stderr}`);

  t.test('podman run prints the output and passes the exit status through', async (t) => {
    const hello = podman(['run', '--rm', ...LIMITS, image, 'echo', 'hello from podman']);
    t.equal(hello.stdout, 'hello from podman\n', hello.stderr);
    t.equal(hello.status, 0);
    t.equal(podman(['run', '--rm', ...LIMITS, image, 'sh', '-c', 'exit 5']).status, 5);
  });

  t.test('podman run -i passes stdin through', async (t) => {
    const r = podman(['run', '--rm', '-i', ...LIMITS, image, 'cat'], 'piped in\n');
    t.equal(r.stdout, 'piped in\n', r.stderr);
  });

  t.test('podman run -t gives the container a terminal via --console-socket', async (t) => {
    const r = podman(['run', '--rm', '-t', ...LIMITS, image, 'sh', '-c', 'test -t 1 && echo on-a-tty']);
    t.match(r.stdout, /on-a-tty/, r.stderr);
    t.equal(r.status, 0);
  });

  t.test('podman run -d, ps, stop and rm', async (t) => {
    const started = podman(['run', '-d', ...LIMITS, image, 'sleep', '1000']);
    t.equal(started.status, 0, started.stderr);
    const id = started.stdout.trim();
    t.teardown(() => podman(['rm', '-f', id]));
    t.match(podman(['ps', '--format', '{{.ID}} {{.Status}}']).stdout, new RegExp(`^${id.slice(0, 12)} Up`, 'm'));
    const stopped = podman(['stop', '-t', '1', id]);
    t.equal(stopped.status, 0, stopped.stderr);
    t.match(podman(['ps', '-a', '--format', '{{.ID}} {{.Status}}']).stdout, new RegExp(`^${id.slice(0, 12)} Exited`, 'm'));
    t.equal(podman(['rm', id]).status, 0);
  });
}
