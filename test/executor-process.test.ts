// The process planner's steps run by the executor in a real container: the executor's
// verify() must accept what the planner expects before execve, and the container's own
// view of itself after execve (/proc/self/status) must agree with it.
import t from 'tap';
import type { Config } from '../src/config/types.js';
import { gatherProcessHostFacts } from '../src/runtime/planner/process-host.js';
import { cwdSteps, planProcess } from '../src/runtime/planner/process.js';
import { spawn } from '../src/runtime/executor.js';
import { busyboxRootfs, containerPlan, outputFile } from './helpers/executor.js';

function statusFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

const hex = (value: string | undefined) => BigInt(`0x${value ?? 'x'}`);

function check(name: string, process: Record<string, unknown>, linux: Record<string, unknown> = {}): void {
  t.test(name, async (t) => {
    const root = busyboxRootfs(t);
    const out = outputFile(t, root);
    const config = {
      ociVersion: '1.3.0',
      process: { args: ['cat', '/proc/self/status'], cwd: '/work', env: ['PATH=/bin'], ...process },
      linux,
    } as unknown as Config;
    const plan = containerPlan(root, { args: ['/bin/true'] });
    const host = await gatherProcessHostFacts(config, root);
    const processPlan = planProcess(config, { fds: plan.fds, userNamespace: false, mode: 'create', host });
    // the container plan makes a missing cwd; this test's plan is a minimal one
    plan.steps.push(...cwdSteps(config), ...processPlan.steps);
    plan.exec = processPlan.exec;
    plan.expect = processPlan.expect;

    const child = spawn(plan, { stdio: [0, out.fd, 2], preserveFds: 0 });
    await child.setup();
    child.verify();
    child.release();
    t.equal(await child.wait(), 0);

    const status = statusFields(out.text());
    const e = plan.expect;
    t.equal(status.get('Uid'), [e.uid, e.uid, e.uid, e.uid].join('\t'));
    t.equal(status.get('Gid'), [e.gid, e.gid, e.gid, e.gid].join('\t'));
    t.same(status.get('Groups')!.split(/\s+/).filter(Boolean).map(Number), e.groups);
    t.same(
      ['CapBnd', 'CapInh', 'CapAmb'].map((k) => hex(status.get(k))),
      [e.capBnd, e.capInh, e.capAmb],
      'capability sets as planned',
    );
    // verify() compared the sets before execve; execve of a plain file then recomputes
    // permitted and effective: root gets bounding | inheritable, anyone else the ambient set.
    const afterExec = e.uid === 0 ? e.capBnd! | e.capInh! | e.capAmb! : e.capAmb;
    t.same([hex(status.get('CapPrm')), hex(status.get('CapEff'))], [afterExec, afterExec], 'permitted and effective after execve');
    t.equal(status.get('NoNewPrivs'), e.noNewPrivs ? '1' : '0');
    t.equal(status.get('Seccomp'), String(e.seccomp));
  });
}

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

check("runc spec's process as root", {
  user: { uid: 0, gid: 0 },
  capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS, ambient: DEFAULT_CAPS },
  rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
  noNewPrivileges: true,
});

check('a non-root user with groups, ambient capabilities and a seccomp filter', {
  user: { uid: 1000, gid: 1000, additionalGids: [5, 3] },
  capabilities: {
    bounding: ['CAP_KILL', 'CAP_CHOWN'],
    effective: ['CAP_KILL'],
    permitted: ['CAP_KILL', 'CAP_CHOWN'],
    inheritable: ['CAP_KILL'],
    ambient: ['CAP_KILL'],
  },
  noNewPrivileges: true,
}, {
  seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat', 'mkdir'], action: 'SCMP_ACT_ERRNO' }] },
});
