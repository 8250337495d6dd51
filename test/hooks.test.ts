import t, { type Test } from 'tap';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHooks, runHooksWarning } from '../src/runtime/hooks.js';
import type { OciState } from '../src/state/index.js';

const state: OciState = {
  ociVersion: '1.3.0', id: 'hooked', pid: 42, status: 'creating', bundle: '/b', rootfs: '/b/rootfs', created: '2026-01-01T00:00:00Z', owner: '',
};

function dir(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-hooks-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

t.test('a hook gets the state on stdin, its args, only its env, and the bundle as cwd', async (t) => {
  const d = dir(t);
  const out = join(d, 'out');
  const hook = script(join(d, 'hook'), `cat > ${out}.stdin; echo "$0|$1|$2|$FOO|$HOME|$(pwd)" > ${out}.args`);
  await runHooks('createRuntime', { createRuntime: [{ path: hook, args: ['first-arg', 'a', 'b'], env: ['FOO=bar'] }] }, state, { cwd: d });
  t.same(JSON.parse(readFileSync(`${out}.stdin`, 'utf8')), state);
  // sh sets $0 from its script path; argv[1..] are the args after args[0].
  t.equal(readFileSync(`${out}.args`, 'utf8').trim().split('|').slice(1).join('|'), `a|b|bar||${d}`);
});

t.test('hooks run in order and the first failure stops the rest, naming the hook', async (t) => {
  const d = dir(t);
  const log = join(d, 'log');
  const ok = script(join(d, 'ok'), `echo ok >> ${log}`);
  const bad = script(join(d, 'bad'), `echo bad >> ${log}; echo "no network for you" >&2; exit 3`);
  await t.rejects(
    runHooks('prestart', { prestart: [{ path: ok }, { path: bad }, { path: ok }] }, state, { cwd: d }),
    { name: 'BerthError', message: `hooks.prestart[1]: ${bad} exited with status 3: no network for you` },
  );
  t.equal(readFileSync(log, 'utf8'), 'ok\nbad\n');
});

t.test('a hook past its timeout is killed and is an error', async (t) => {
  const d = dir(t);
  const slow = script(join(d, 'slow'), 'sleep 30');
  const started = Date.now();
  await t.rejects(runHooks('createRuntime', { createRuntime: [{ path: slow, timeout: 1 }] }, state, { cwd: d }), {
    message: /hooks\.createRuntime\[0\]: .*slow timed out after 1 s and was killed/,
  });
  t.ok(Date.now() - started < 10_000, 'it did not wait for the hook to finish');
});

t.test('a hook that cannot be run is an error naming it', async (t) => {
  const d = dir(t);
  await t.rejects(runHooks('prestart', { prestart: [{ path: join(d, 'missing') }] }, state, { cwd: d }), {
    message: `hooks.prestart[0]: ${join(d, 'missing')} could not be run: ENOENT`,
  });
});

t.test('poststart/poststop failures are warnings: every hook still runs', async (t) => {
  const d = dir(t);
  const log = join(d, 'log');
  const bad = script(join(d, 'bad'), `echo bad >> ${log}; exit 1`);
  await runHooksWarning('poststop', { poststop: [{ path: bad }, { path: bad }] }, { ...state, status: 'stopped' }, { cwd: d });
  t.equal(readFileSync(log, 'utf8'), 'bad\nbad\n');
});
