import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH, berth } from './helpers/berth.js';
import { record, sleeper, storeRecord, tempRoot, uniqueId } from './helpers/state.js';
import { StateStore } from '../src/state/index.js';
import { validateStateSchema } from '../src/generated/validators.js';

/** Run many berth processes at once and collect what each printed. */
function parallel(argsList: string[][]): Promise<{ status: number | null; stdout: string; stderr: string }[]> {
  return Promise.all(
    argsList.map(
      (args) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, [BERTH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.stderr.on('data', (d) => (stderr += d));
          child.on('close', (status) => resolve({ status, stdout, stderr }));
        }),
    ),
  );
}

t.test('state.json is replaced atomically and holds exactly the last record', async (t) => {
  const root = tempRoot(t);
  const id = uniqueId();
  storeRecord(root, record(id, 0, '0'));
  const container = new StateStore(root).open(id, 'exclusive');
  t.teardown(() => container.close());
  for (let i = 1; i <= 50; i++) container.write(record(id, i, String(i)));
  t.equal(container.read().pid, 50);
  t.same(readdirSync(join(root, id)), ['state.json'], 'no temp file is left behind');
  t.equal(JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')).pid, 50);
});

t.test('bad container ids are rejected with a clear error and nothing is created', async (t) => {
  const root = tempRoot(t);
  for (const [id, message] of [
    ['a/b', /invalid container id format/],
    ['..', /invalid container id format/],
    ['.', /invalid container id format/],
    ['', /container id cannot be empty/],
    ['x'.repeat(1025), /longer than 1024/],
    ['bad id', /invalid container id format/],
  ] as const) {
    const r = berth(['--root', root, 'state', id]);
    t.equal(r.status, 1, `state ${JSON.stringify(id.slice(0, 20))} fails`);
    t.match(r.stderr, message);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    t.throws(() => new StateStore(root).create(id), message);
  }
  t.notOk(existsSync(root) && readdirSync(root).length > 0, 'no state directory was created');
});

t.test('state of an unknown container is a clean error', async (t) => {
  const r = berth(['--root', tempRoot(t), 'state', 'nosuch']);
  t.equal(r.status, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, 'berth: container "nosuch" does not exist\n');
});

t.test('a corrupt state.json is an error naming the file, without a stack trace', async (t) => {
  const root = tempRoot(t);
  const id = uniqueId();
  storeRecord(root, record(id, 0, '0'));
  const file = join(root, id, 'state.json');
  for (const content of ['{"id": "trunc', '[]', '{"id": 5}']) {
    writeFileSync(file, content);
    for (const command of [['state', id], ['delete', id], ['kill', id, 'KILL']]) {
      const r = berth(['--root', root, ...command]);
      t.equal(r.status, 1, `${command[0]} fails on ${content}`);
      t.match(r.stderr, `corrupt state file ${file}`);
      t.notMatch(r.stderr, /\n\s+at /);
    }
  }
  t.ok(existsSync(file), 'a corrupt container is not silently deleted');
});

t.test('status is derived from the process: running, stopped on exit, stopped on a reused pid', async (t) => {
  const root = tempRoot(t);
  const live = sleeper(t);
  const running = uniqueId('run');
  const reused = uniqueId('reuse');
  storeRecord(root, record(running, live.pid, live.startTime, { annotations: { 'org.example/key': 'v' } }));
  storeRecord(root, record(reused, live.pid, String(Number(live.startTime) - 1)));

  const state = JSON.parse(berth(['--root', root, 'state', running]).stdout);
  t.equal(state.status, 'running');
  t.equal(state.pid, live.pid);
  t.same(state.annotations, { 'org.example/key': 'v' });
  t.ok(validateStateSchema(state), 'the output validates against the state schema');

  const other = JSON.parse(berth(['--root', root, 'state', reused]).stdout);
  t.equal(other.status, 'stopped', 'a pid with another start time is not our process');
  t.equal(other.pid, 0);
  const k = berth(['--root', root, 'kill', reused, 'KILL']);
  t.equal(k.status, 1);
  t.match(k.stderr, /container not running/);
  t.ok(existsSync(`/proc/${live.pid}`) && !readFileSync(`/proc/${live.pid}/stat`, 'utf8').includes(') Z'), 'the reused pid was not killed');

  const fifo = join(root, running, 'exec.fifo');
  writeFileSync(fifo, '');
  t.equal(JSON.parse(berth(['--root', root, 'state', running]).stdout).status, 'created', 'exec.fifo present: created');

  live.child.kill('SIGKILL');
  await new Promise((resolve) => live.child.once('exit', resolve));
  t.equal(JSON.parse(berth(['--root', root, 'state', running]).stdout).status, 'stopped');
});

t.test('30 parallel state/delete/list calls on one container never crash or corrupt it', async (t) => {
  const root = tempRoot(t);
  const live = sleeper(t);
  const id = uniqueId('race');
  storeRecord(root, record(id, live.pid, live.startTime));
  const calls: string[][] = [];
  for (let i = 0; i < 30; i++) {
    const pick = i % 3;
    calls.push(pick === 0 ? ['--root', root, 'state', id] : pick === 1 ? ['--root', root, 'delete', id] : ['--root', root, 'list', '-f', 'json']);
  }
  const results = await parallel(calls);
  results.forEach((r, i) => {
    const what = calls[i]![2];
    t.notMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
    if (what === 'state') {
      t.equal(r.status, 0);
      t.equal(JSON.parse(r.stdout).status, 'running');
    } else if (what === 'delete') {
      t.equal(r.status, 1);
      t.equal(r.stderr, `berth: cannot delete container ${id} that is not stopped: running\n`);
    } else {
      t.equal(r.status, 0);
      t.equal(JSON.parse(r.stdout)[0].id, id);
    }
  });
  t.equal(new StateStore(root).open(id, 'shared').read().pid, live.pid, 'the record is intact');
});

t.test('parallel deletes of a stopped container: exactly one wins, the rest find nothing', async (t) => {
  const root = tempRoot(t);
  const id = uniqueId('del');
  storeRecord(root, record(id, 0, '0'));
  const results = await parallel(Array.from({ length: 30 }, () => ['--root', root, 'delete', id]));
  t.equal(results.filter((r) => r.status === 0).length, 1, 'one delete succeeds');
  for (const r of results.filter((r) => r.status !== 0)) t.equal(r.stderr, `berth: container "${id}" does not exist\n`);
  t.notOk(existsSync(join(root, id)));
});

t.test('parallel creations of one id: exactly one wins', async (t) => {
  const root = tempRoot(t);
  const id = uniqueId('new');
  const store = new URL('../src/state/index.js', import.meta.url).href;
  const script = `
    const { StateStore } = await import(${JSON.stringify(store)});
    try {
      const c = new StateStore(process.argv[1]).create(process.argv[2]);
      c.write({ ociVersion: '1.3.0', id: process.argv[2], pid: process.pid, pidStartTime: '0', bundle: '/b', rootfs: '/b/r',
        created: new Date().toISOString(), annotations: {}, owner: '', config: { ociVersion: '1.3.0' } });
      c.close();
      console.log('won');
    } catch (e) { console.log(e.message); }`;
  const results = await Promise.all(
    Array.from({ length: 20 }, () =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, root, id], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('close', () => resolve(out.trim()));
      }),
    ),
  );
  t.equal(results.filter((r) => r === 'won').length, 1);
  for (const r of results.filter((r) => r !== 'won')) t.equal(r, `container "${id}" already exists`);
  const winner = new StateStore(root).open(id, 'shared');
  t.teardown(() => winner.close());
  t.equal(winner.read().id, id);
});
