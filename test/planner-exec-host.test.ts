// berth exec's host facts on real processes: the namespaces of a process that differ
// from ours are the ones to join, by their /proc/<pid>/ns paths.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { gatherFsHostFacts } from '../src/runtime/planner/fs-host.js';
import { plan } from '../src/runtime/planner/index.js';
import { config, fsFacts } from './helpers/plans.js';

const root = process.getuid?.() === 0;

t.test('a process in its own uts and ipc namespaces', { skip: root ? false : 'needs root' }, async (t) => {
  const child = spawn('unshare', ['--uts', '--ipc', 'sleep', '30'], { stdio: 'ignore' });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const pid = child.pid!;
  // wait until unshare has exec'd sleep inside its namespaces
  const ours = readlinkSync('/proc/self/ns/uts');
  for (let i = 0; i < 200 && readlinkSync(`/proc/${pid}/ns/uts`) === ours; i++) await new Promise((r) => setTimeout(r, 10));
  const facts = await gatherFsHostFacts(config(), '/', '/', pid);
  t.same(facts.containerNamespaces, { ipc: `/proc/${pid}/ns/ipc`, uts: `/proc/${pid}/ns/uts` });
  const p = plan({
    config: config(), bundle: '/', rootfs: '/', mode: 'exec', initPid: pid, gate: { kind: 'pipe' }, preserveFds: 0, noPivot: false,
    host: { fs: { ...fsFacts(), containerNamespaces: facts.containerNamespaces }, process: { executable: '/bin/true' } },
  });
  t.same(p.joinNamespaces, [{ type: 'ipc', path: `/proc/${pid}/ns/ipc` }, { type: 'uts', path: `/proc/${pid}/ns/uts` }]);
  t.equal(p.cloneFlags, 0);
});
