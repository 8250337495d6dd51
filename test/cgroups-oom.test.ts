// cgroup2 OOM notifications come from memory.events' oom_kill counter: checked on a
// stand-in file, since this host's cgroup2 hierarchy has no memory controller (the v1
// eventfd path is tested for real by the events stream test).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLayout } from '../src/cgroups/layout.js';
import { watchOom } from '../src/cgroups/oom.js';
import { UNIFIED } from '../src/cgroups/types.js';

const v2 = parseLayout('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n', ['memory']);
const events = (kills: number) => `low 0\nhigh 0\nmax 3\noom 2\noom_kill ${kills}\noom_group_kill 0\n`;

t.test('each rise of oom_kill is one OOM event; one since the last poll is reported on stop', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fake-memory-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'memory.events'), events(1));
  let ooms = 0;
  const watch = watchOom({ [UNIFIED]: dir }, v2, () => ooms++, 20);
  t.ok(watch, 'a watch on cgroup2');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(ooms, 0, 'kills before the watch started are not reported');
  writeFileSync(join(dir, 'memory.events'), events(2));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(ooms, 1);
  writeFileSync(join(dir, 'memory.events'), events(3));
  watch!.stop();
  t.equal(ooms, 2, 'stop reports the kill it has not polled yet');
});

t.test('no memory cgroup: nothing to watch', async (t) => {
  t.equal(watchOom({ [UNIFIED]: '/nonexistent-berth-cgroup' }, v2, () => {}), undefined);
});
