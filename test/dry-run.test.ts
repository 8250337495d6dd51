// `create --dry-run` / `run --dry-run`: the exact calls a config turns into, printed,
// with nothing created on the host.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth } from './helpers/berth.js';
import { bundleFor } from './helpers/bundle.js';

t.test('create --dry-run prints the planned calls with their config fields and creates nothing', async (t) => {
  const bundle = bundleFor(t, { args: ['true'], edit: (c) => { c.hostname = 'dry'; } });
  const root = join(mkdtempSync(join(tmpdir(), 'berth-dry-')), 'root');
  const r = berth(['--root', root, 'create', '--dry-run', '--bundle', bundle.dir, 'dry-1']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^clone\(CLONE_NEWNS\|.*CLONE_NEWPID.*\|SIGCHLD\)$/m, 'the clone flags come first');
  t.match(r.stdout, /mount\("proc", "\/proc\/self\/fd\/\d+", "proc".*# mounts\[0\]/, 'each mount names its mounts[i]');
  t.match(r.stdout, /SYS_pivot_root/, 'pivot_root is planned');
  t.match(r.stdout, /sethostname\("dry", 3\).*# hostname/, 'the hostname step names its field');
  t.match(r.stdout, /execve/, 'the plan ends in the exec of process.args');
  t.notOk(existsSync(root), 'no state directory was made');
  // Other tests mount elsewhere meanwhile: only mounts of this bundle's rootfs count.
  const ours = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(bundle.dir));
  t.same(ours, [], 'no mount of the rootfs was made');
});

t.test('run --dry-run plans with a pipe gate; an invalid config is still refused by path', async (t) => {
  const bundle = bundleFor(t, { args: ['true'] });
  const r = berth(['--root', join(bundle.dir, 'root'), 'run', '--dry-run', '--bundle', bundle.dir, 'dry-2']);
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stdout, /exec\.fifo/, 'run waits on a pipe, not on the exec fifo');

  const bad = bundleFor(t, { args: ['true'], edit: (c) => { c.process.user.uid = 'root'; } });
  const e = berth(['--root', join(bad.dir, 'root'), 'create', '--dry-run', '--bundle', bad.dir, 'dry-3']);
  t.not(e.status, 0);
  t.match(e.stderr, /process\.user\.uid: must be an integer/);
});
