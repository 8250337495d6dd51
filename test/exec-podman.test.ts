// podman drives berth exec as it drives runc (through conmon: `exec --detach --pid-file F
// --process P.json [--console-socket S] ID`). A private podman store in a temp dir holds
// an image imported from a busybox rootfs: no registry is involved.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH } from './helpers/berth.js';
import { makeBusyboxBundle } from './helpers/busybox-bundle.js';
import { uniqueId } from './helpers/state.js';

const havePodman = spawnSync('podman', ['--version']).status === 0;

if (!havePodman) {
  t.plan(0, 'podman is not installed');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'berth-podman-'));
  const image = `localhost/${uniqueId('berth-exec')}`;
  const name = uniqueId('podman-exec');
  const podman = (args: string[], input?: string) => {
    const r = spawnSync('podman', [
      '--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs',
      '--runtime', BERTH, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args,
    ], { encoding: 'utf8', timeout: 60_000, input: input ?? '' });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  t.teardown(() => {
    podman(['rm', '--force', '--time', '0', name]);
    podman(['rmi', '--force', image]);
    // Nothing of the private store may stay mounted before its directory goes.
    if (!readFileSync('/proc/self/mountinfo', 'utf8').includes(dir)) rmSync(dir, { recursive: true, force: true });
  });

  const bundle = makeBusyboxBundle(['true']);
  const tar = spawnSync('tar', ['-C', bundle.rootfs, '-c', '.'], { maxBuffer: 64 << 20 });
  rmSync(bundle.dir, { recursive: true, force: true });
  const imported = spawnSync('podman', ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs', 'import', '-', image], { input: tar.stdout, encoding: 'utf8', timeout: 60_000 });

  t.test('podman run -d, then podman exec through berth', async (t) => {
    t.equal(imported.status, 0, 'the busybox rootfs is imported as an image', { stderr: imported.stderr });
    // The image runs with runc's usual limits: podman's default nofile is the host's maximum.
    const run = podman(['run', '-d', '--name', name, '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, 'sleep', '1000']);
    t.equal(run.status, 0, run.stderr);

    const hostname = podman(['exec', name, 'hostname']);
    t.equal(hostname.status, 0, hostname.stderr);
    t.equal(hostname.stdout.trim(), run.stdout.trim().slice(0, 12), "the container's hostname: podman sets its short id");
    t.equal(podman(['exec', name, 'sh', '-c', 'exit 7']).status, 7, 'the status comes back through conmon');

    const tty = podman(['exec', '-t', name, 'sh', '-c', 'tty; [ -t 0 ] && echo is-a-tty']);
    t.equal(tty.status, 0, tty.stderr);
    t.match(tty.stdout, /^\/dev\/pts\/\d+\r?\nis-a-tty/, 'exec -t: the pty reached conmon through --console-socket');

    t.equal(podman(['exec', '-d', name, 'sleep', '77']).status, 0);
    const ps = podman(['exec', name, 'ps']);
    t.match(ps.stdout, /\n\s*\d+\s+\S+\s+sleep 77/, 'the detached process runs in the container');
  });
}
