// What a user sees when a config is wrong: every problem at once, each named by the
// JSON path of the field to fix; JSON syntax errors by line and column.
import t from 'tap';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../src/errors.js';
import { loadConfig } from '../src/config/load.js';
import { formatProblems, type Problem } from '../src/config/problem.js';
import { schemaProblems } from '../src/config/schema-errors.js';
import { validateConfig, validateFeatures, validateState } from '../src/config/validate.js';
import { berth } from './helpers/berth.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const BASE_TEXT = readFileSync(join(repoRoot, 'test/fixtures/config/base.json'), 'utf8');

/** A fresh copy of the valid base config, to break one thing in. */
function base(): any {
  return JSON.parse(BASE_TEXT);
}

function lines(problems: readonly Problem[]): string[] {
  return formatProblems(problems).split('\n').filter((l) => l !== '');
}

function bundle(t: { teardown(fn: () => void): void }, config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-validate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'rootfs'));
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return dir;
}

t.test('the base fixture is valid: every rule below is triggered by its own mutation alone', async (t) => {
  t.same(validateConfig(base(), { forCreate: true }), []);
});

t.test('a config that sets every field of the runtime-spec for Linux is valid', async (t) => {
  const everyField = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/config/every-field.json'), 'utf8'));
  t.same(validateConfig(everyField, { forCreate: true }), []);
});

t.test('a string uid and an unknown namespace type are reported together, by their paths', async (t) => {
  const config = base();
  config.process.user.uid = '0';
  config.linux.namespaces[2].type = 'bogus';
  t.same(lines(validateConfig(config)), [
    'process.user.uid: must be an integer',
    'linux.namespaces[2].type: must be one of: cgroup, ipc, mount, network, pid, time, user, uts',
  ]);
});

t.test('schema problems read as field and expectation', async (t) => {
  const cases: Array<[string, (c: any) => void, string]> = [
    ['missing required field', (c) => delete c.process.cwd, 'process.cwd: is required'],
    ['missing ociVersion', (c) => delete c.ociVersion, 'ociVersion: is required'],
    ['uint32 range', (c) => (c.process.user.gid = -1), 'process.user.gid: must be between 0 and 4294967295'],
    ['uint32 range above', (c) => (c.linux.devices[0].uid = 2 ** 32), 'linux.devices[0].uid: must be between 0 and 4294967295'],
    ['int64 bounds in words', (c) => (c.linux.resources = { memory: { limit: 2 ** 64 } }), 'linux.resources.memory.limit: must be between -2^63 and 2^63-1'],
    ['an integer field given a fraction', (c) => (c.linux.resources = { pids: { limit: 1.5 } }), 'linux.resources.pids.limit: must be an integer'],
    ['not an integer', (c) => (c.process.user.uid = 1.5), 'process.user.uid: must be an integer'],
    ['file mode above 0777', (c) => (c.linux.devices[0].fileMode = 512), 'linux.devices[0].fileMode: must be between 0 and 511'],
    ['pattern', (c) => (c.linux.devices[0].type = 'x'), 'linux.devices[0].type: must match /^[cbup]$/'],
    ['hook timeout', (c) => (c.hooks.createRuntime[0].timeout = 0), 'hooks.createRuntime[0].timeout: must be >= 1'],
    ['annotation keys with dots are quoted', (c) => (c.annotations = { 'org.example.k': 5 }), 'annotations["org.example.k"]: must be a string'],
    ['empty syscall names', (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }), 'linux.seccomp.syscalls[0].names: must have at least 1 entry'],
    ['a non-Linux platform', (c) => (c.windows = {}), 'windows: berth runs Linux containers only'],
    ['a whole document of the wrong type', (c) => (c.linux = []), 'linux: must be an object'],
  ];
  for (const [name, mutate, expected] of cases) {
    const config = base();
    mutate(config);
    t.same(lines(validateConfig(config)), [expected], name);
  }
});

t.test('a document that is not an object at all', async (t) => {
  t.same(lines(validateConfig([])), ['config.json: must be an object']);
});

t.test('unknown fields are allowed where the runtime-spec allows them', async (t) => {
  const config = base();
  config.process.berthFuture = true;
  config.linux.someNewThing = { x: 1 };
  config.org_example = 'x';
  config.process.capabilities.future = 5;
  config.hooks.someday = [{ path: 'relative' }];
  t.same(validateConfig(config), []);
});

t.test('semantic rules: each names the field and why', async (t) => {
  const cases: Array<[string, (c: any) => void, RegExp, object?]> = [
    ['user namespace without uid mappings', (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }, /^linux\.uidMappings: is required: linux\.namespaces\[5\] creates a user namespace$/],
    ['mappings without a user namespace', (c) => {
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }, /^linux\.uidMappings: needs a user namespace/],
    ['a namespace type listed twice', (c) => c.linux.namespaces.push({ type: 'pid' }),
      /^linux\.namespaces\[5\]\.type: "pid" is already listed at linux\.namespaces\[0\]$/],
    ['a relative namespace path', (c) => (c.linux.namespaces[1].path = 'proc/1/ns/net'), /^linux\.namespaces\[1\]\.path: must be an absolute path/],
    ['an unknown capability', (c) => c.process.capabilities.effective.push('CAP_FLY'),
      /^process\.capabilities\.effective\[3\]: unknown capability "CAP_FLY"$/],
    ['a relative hook path', (c) => (c.hooks.createRuntime[0].path = 'bin/true'), /^hooks\.createRuntime\[0\]\.path: must be an absolute path/],
    ['empty process.args', (c) => (c.process.args = []), /^process\.args: must name the program to run/],
    ['missing process.args', (c) => delete c.process.args, /^process\.args: must name the program to run/],
    ['a relative cwd', (c) => (c.process.cwd = 'home'), /^process\.cwd: must be an absolute path/],
    ['an unknown rlimit', (c) => (c.process.rlimits[0].type = 'RLIMIT_FOO'), /^process\.rlimits\[0\]\.type: unknown resource "RLIMIT_FOO"$/],
    ['soft above hard', (c) => (c.process.rlimits[0].soft = 2048), /^process\.rlimits\[0\]\.soft: must not exceed hard \(2048 > 1024\)$/],
    ['an rlimit set twice', (c) => c.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }),
      /^process\.rlimits\[1\]\.type: "RLIMIT_NOFILE" is already set by process\.rlimits\[0\]$/],
    ['time offsets without a time namespace', (c) => (c.linux.timeOffsets = { monotonic: { secs: 1 } }), /^linux\.timeOffsets: needs a time namespace/],
    ['time offsets for a joined time namespace', (c) => {
      c.linux.namespaces.push({ type: 'time', path: '/proc/1/ns/time' });
      c.linux.timeOffsets = { boottime: { secs: 1 } };
    }, /^linux\.timeOffsets: cannot be applied to the existing time namespace/],
    ['a hostname without a UTS namespace', (c) => c.linux.namespaces.splice(3, 1), /^hostname: can only be set in a private UTS namespace/],
    ['a sysctl that is not namespaced', (c) => (c.linux.sysctl['vm.swappiness'] = '10'), /^linux\.sysctl\["vm\.swappiness"\]: is not namespaced/],
    ['a network sysctl without a network namespace', (c) => c.linux.namespaces.splice(1, 1),
      /^linux\.sysctl\["net\.ipv4\.ip_forward"\]: needs a network namespace/],
    ['an IPC sysctl without an IPC namespace', (c) => c.linux.namespaces.splice(2, 1), /^linux\.sysctl\["kernel\.shmmax"\]: needs an IPC namespace/],
    ['a sysctl in slash form is still not namespaced', (c) => (c.linux.sysctl['vm/swappiness'] = '10'), /^linux\.sysctl\["vm\/swappiness"\]: is not namespaced/],
    ['an id-mapped mount with one table', (c) => (c.mounts[1].uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
      /^mounts\[1\]\.gidMappings: is required: an id-mapped mount needs both/],
    ['a malformed sysctl key', (c) => (c.linux.sysctl['net..x'] = '1'), /^linux\.sysctl\["net\.\.x"\]: is not a sysctl name/],
    ['a cgroupsPath climbing out', (c) => (c.linux.cgroupsPath = '/berth/../../system.slice'), /^linux\.cgroupsPath: must not contain "\.\."/],
    ['a cgroupfs path under --systemd-cgroup', () => {}, /^linux\.cgroupsPath: with --systemd-cgroup must be "slice:prefix:name", got "\/berth\/test"$/, { systemdCgroup: true }],
    ['a systemd slice that is not a slice', (c) => (c.linux.cgroupsPath = 'user:berth:x'), /^linux\.cgroupsPath: slice "user" must be a systemd slice name/, { systemdCgroup: true }],
    ['a systemd path without a name', (c) => (c.linux.cgroupsPath = 'user.slice:berth:'), /^linux\.cgroupsPath: names no unit/, { systemdCgroup: true }],
    ['a device without its numbers', (c) => delete c.linux.devices[0].minor, /^linux\.devices\[0\]\.minor: is required for a device of type "c"$/],
    ['a relative device path', (c) => (c.linux.devices[0].path = 'dev/fuse'), /^linux\.devices\[0\]\.path: must be an absolute path/],
    ['no process to create', (c) => delete c.process, /^process: is required to create a container$/, { forCreate: true }],
    ['no root to create', (c) => delete c.root, /^root: is required to create a container$/, { forCreate: true }],
  ];
  for (const [name, mutate, expected, options] of cases) {
    const config = base();
    mutate(config);
    const found = lines(validateConfig(config, options ?? {}));
    t.equal(found.length, 1, `${name}: exactly one problem (${found.join(' | ')})`);
    t.match(found[0] ?? '', expected, name);
  }
});

t.test('the forms of cgroupsPath that are fine', async (t) => {
  for (const [path, systemdCgroup] of [['/a/b', false], ['a/b', false], ['system.slice:berth:c1', true], [':berth:c1', true]] as const) {
    const config = base();
    config.linux.cgroupsPath = path;
    t.same(validateConfig(config, { systemdCgroup }), [], `${path} (systemd: ${systemdCgroup})`);
  }
});

t.test('a user namespace joined by path needs no mappings; one created with mappings is fine', async (t) => {
  const joined = base();
  joined.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' });
  t.same(validateConfig(joined), []);
  const created = base();
  created.linux.namespaces.push({ type: 'user' });
  created.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  created.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  t.same(validateConfig(created), []);
});

t.test('a relative mount destination is a warning, as in runc 1.1', async (t) => {
  const config = base();
  config.mounts[0].destination = 'proc';
  const problems = validateConfig(config);
  t.same(problems, [{ path: 'mounts[0].destination', message: '"proc" is not absolute; it is mounted at "/proc"', warning: true }]);
});

t.test('state and features documents', async (t) => {
  const state = { ociVersion: '1.3.0', id: 'c1', status: 'paused', pid: 42, bundle: '/b' };
  t.same(validateState(state), [], 'runc reports "paused": so does berth');
  t.same(lines(validateState({ ...state, status: 'sleeping', pid: -1 })), [
    'status: must be one of: creating, created, running, stopped, paused',
    'pid: must be >= 0',
  ]);
  t.same(validateFeatures({ ociVersionMin: '1.0.0', ociVersionMax: '1.3.0', linux: { namespaces: ['pid'] } }), []);
  t.same(lines(validateFeatures({ ociVersionMin: '1.0.0', linux: { namespaces: ['pidd'] } })), [
    'ociVersionMax: is required',
    'linux.namespaces[0]: must be one of: cgroup, ipc, mount, network, pid, time, user, uts',
  ]);
});

t.test('loadConfig: missing, unreadable, malformed and invalid bundles', async (t) => {
  const missing = mkdtempSync(join(tmpdir(), 'berth-validate-'));
  t.teardown(() => rmSync(missing, { recursive: true, force: true }));
  t.throws(() => loadConfig(missing), new BerthError(`cannot read ${join(missing, 'config.json')}: no such file`));

  const directory = bundle(t, {});
  rmSync(join(directory, 'config.json'));
  mkdirSync(join(directory, 'config.json'));
  t.throws(() => loadConfig(directory), { message: `cannot read ${join(directory, 'config.json')}: is a directory` });

  const text = BASE_TEXT.replace('"cwd": "/",', '"cwd": "/",,');
  const line = BASE_TEXT.slice(0, BASE_TEXT.indexOf('"cwd": "/",')).split('\n').length;
  const column = BASE_TEXT.split('\n')[line - 1]!.indexOf('"cwd"') + '"cwd": "/",'.length + 1;
  const malformed = bundle(t, text);
  t.throws(() => loadConfig(malformed), {
    name: 'BerthError',
    message: `${join(malformed, 'config.json')}:${line}:${column}: Expected double-quoted property name`,
  });

  const config = base();
  config.process.user.uid = 'root';
  config.mounts[1].destination = 'dev';
  const invalid = bundle(t, config);
  t.throws(() => loadConfig(invalid), {
    message: `${join(invalid, 'config.json')} is not valid:\nprocess.user.uid: must be an integer`,
  }, 'schema problems first: semantic warnings come once the schema is satisfied');

  t.same(loadConfig(bundle(t, base())), base());
});

t.test('berth validate, end to end', async (t) => {
  const good = bundle(t, base());
  const ok = berth(['validate', '--bundle', good]);
  t.same([ok.status, ok.stdout, ok.stderr], [0, '', ''], 'a valid bundle: silent success');

  const inCwd = berth(['validate'], { cwd: good });
  t.equal(inCwd.status, 0, 'the bundle defaults to the current directory');

  const config = base();
  config.process.user.uid = '0';
  config.linux.namespaces[2].type = 'bogus';
  const bad = bundle(t, config);
  const r = berth(['validate', '-b', bad]);
  t.equal(r.status, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, [
    `berth: ${join(bad, 'config.json')} is not valid:`,
    'process.user.uid: must be an integer',
    'linux.namespaces[2].type: must be one of: cgroup, ipc, mount, network, pid, time, user, uts',
    '',
  ].join('\n'));

  const malformed = bundle(t, '{\n  "ociVersion": "1.3.0",\n  "root": {"path": "rootfs"}\n  "process": {}\n}\n');
  const m = berth(['validate', '--bundle', malformed]);
  t.equal(m.status, 1);
  t.equal(m.stderr, `berth: ${join(malformed, 'config.json')}:4:3: Expected ',' or '}' after property value\n`);

  const systemd = berth(['--systemd-cgroup', 'validate', '--bundle', good]);
  t.equal(systemd.status, 1, '--systemd-cgroup changes what cgroupsPath must look like');
  t.match(systemd.stderr, /linux\.cgroupsPath: with --systemd-cgroup must be "slice:prefix:name"/);

  const relative = base();
  relative.mounts[0].destination = 'proc';
  const warned = berth(['validate', '--bundle', bundle(t, relative)]);
  t.equal(warned.status, 0, 'warnings do not fail validation');
  t.equal(warned.stderr, 'berth: warning: mounts[0].destination: "proc" is not absolute; it is mounted at "/proc"\n');

  const nowhere = berth(['validate', '--bundle', join(good, 'nope')]);
  t.equal(nowhere.status, 1);
  t.equal(nowhere.stderr, `berth: cannot read ${join(good, 'nope', 'config.json')}: no such file\n`);
});

t.test('anyOf/oneOf noise collapses to one message per field', async (t) => {
  // berth's own schemas need no anyOf/oneOf today; the formatter must still read well
  // for any schema that does, so this one is compiled here, in the test.
  const { default: Ajv } = await import('ajv');
  const ajv = new Ajv.default({ allErrors: true, verbose: true });
  const validate = ajv.compile({
    type: 'object',
    properties: {
      size: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      shape: { oneOf: [{ type: 'object', required: ['radius'] }, { type: 'object', required: ['side'] }] },
      mode: { anyOf: [{ const: 'a' }, { const: 'b' }] },
    },
  });
  const document = { size: true, shape: {}, mode: 'c' };
  t.notOk(validate(document));
  t.same(lines(schemaProblems(validate.errors, document)), [
    'size: must be a string or an integer',
    'shape.radius: is required',
    'shape.side: is required',
    'mode: must be one of: a, b',
  ]);
});
