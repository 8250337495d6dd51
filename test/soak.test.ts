// 200 sequential `berth run` cycles: no hang, and nothing left behind (state dirs, mounts,
// processes in the rootfs, cgroups, the caller's fds).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH } from './helpers/berth.js';
import { bundleFor } from './helpers/bundle.js';
import { cgroupDirsNamed } from './helpers/leftovers.js';

const CYCLES = 200;

const fdCount = () => readdirSync('/proc/self/fd').length;
const mountsUnder = (dir: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));

/** Host processes whose cwd, root or exe lies in the rootfs: container processes left running. */
function processesIn(rootfs: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const link of ['root', 'cwd', 'exe']) {
      try {
        if (readlinkSync(`/proc/${entry}/${link}`).startsWith(rootfs)) {
          found.push(Number(entry));
          break;
        }
      } catch {
        // gone, or not ours to read
      }
    }
  }
  return found;
}

t.test(`${CYCLES} sequential runs neither hang nor leave anything behind`, async (t) => {
  const bundle = bundleFor(t, { args: ['/bin/true'] });
  const root = mkdtempSync(join(tmpdir(), 'berth-soak-'));
  const prefix = `soak${process.pid}x`;
  const fdsBefore = fdCount();
  const started = performance.now();
  for (let i = 0; i < CYCLES; i++) {
    const r = spawnSync(process.execPath, [BERTH, '--root', root, 'run', '--bundle', bundle.dir, `${prefix}${i}`], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) {
      t.fail(`cycle ${i}: status ${r.status} signal ${r.signal}: ${r.stderr}`);
      break;
    }
  }
  t.comment(`${((performance.now() - started) / CYCLES).toFixed(1)} ms per run cycle`);
  t.same(existsSync(root) ? readdirSync(root) : [], [], 'no state directory left under --root');
  t.same(mountsUnder(bundle.dir), [], 'no mount of the bundle left on the host');
  t.same(processesIn(bundle.rootfs), [], 'no process left in the rootfs');
  t.same(cgroupDirsNamed(prefix), [], 'no cgroup left');
  t.equal(fdCount(), fdsBefore, 'the caller holds as many fds as before');
});
