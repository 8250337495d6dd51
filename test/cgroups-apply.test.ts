// The applying half on a stand-in directory: plain files named like a cgroup2
// directory's, so the write rules (fallback files, optional files, error messages,
// update merging) are checked on any machine without touching a real cgroup.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLayout } from '../src/cgroups/layout.js';
import { CgroupManager } from '../src/cgroups/manager.js';
import { UNIFIED } from '../src/cgroups/types.js';

const layout = parseLayout('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n', ['cpu', 'io', 'memory', 'pids']);

function fakeCgroup(t: Test, files: Record<string, string>): { m: CgroupManager; read: (f: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fake-cgroup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, value] of Object.entries({ 'cgroup.controllers': 'cpu io memory pids', ...files })) writeFileSync(join(dir, name), value);
  return { m: new CgroupManager({ [UNIFIED]: dir }, layout), read: (f) => readFileSync(join(dir, f), 'utf8') };
}

t.test('io weight falls back to io.weight (converted) without BFQ', async (t) => {
  const { m, read } = fakeCgroup(t, { 'io.weight': 'default 100' });
  m.apply({ blockIO: { weight: 500 } });
  t.equal(read('io.weight'), '4950');
  const bfq = fakeCgroup(t, { 'io.bfq.weight': 'default 100', 'io.weight': 'default 100' });
  bfq.m.apply({ blockIO: { weight: 500 } });
  t.equal(bfq.read('io.bfq.weight'), '500');
  t.equal(bfq.read('io.weight'), 'default 100', 'untouched');
});

t.test('swap follows an unlimited memory only where swap accounting exists', async (t) => {
  const noSwap = fakeCgroup(t, { 'memory.max': '1' });
  noSwap.m.apply({ memory: { limit: -1 } });
  t.equal(noSwap.read('memory.max'), 'max');
  const withSwap = fakeCgroup(t, { 'memory.max': '1', 'memory.swap.max': '0' });
  withSwap.m.apply({ memory: { limit: -1 } });
  t.equal(withSwap.read('memory.swap.max'), 'max');
});

t.test('an explicit swap without swap accounting is an error naming field and file', async (t) => {
  const { m } = fakeCgroup(t, { 'memory.max': '1' });
  t.throws(() => m.apply({ memory: { limit: 2 ** 20, swap: 2 ** 21 } }), { name: 'BerthError', message: 'linux.resources.memory.swap: write memory.swap.max: ENOENT' });
});

t.test('updating only the period of cpu.max keeps the quota, and the other way round', async (t) => {
  const { m, read } = fakeCgroup(t, { 'cpu.max': '25000 100000' });
  m.apply({ cpu: { period: 50000 } }, { update: true });
  t.equal(read('cpu.max'), '25000 50000');
  m.apply({ cpu: { quota: -1 } }, { update: true });
  t.equal(read('cpu.max'), 'max 50000');
});

t.test('checkBeforeUpdate refuses a limit below current usage', async (t) => {
  const { m, read } = fakeCgroup(t, { 'memory.max': 'max', 'memory.current': '5000000' });
  t.throws(() => m.apply({ memory: { limit: 4000000, checkBeforeUpdate: true } }, { update: true }), { name: 'BerthError', message: /below the current usage 5000000/ });
  t.equal(read('memory.max'), 'max');
  m.apply({ memory: { limit: 6000000, checkBeforeUpdate: true } }, { update: true });
  t.equal(read('memory.max'), '6000000');
});
