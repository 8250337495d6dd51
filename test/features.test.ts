// `berth features` tells the truth: its document is valid by both schemas, every list
// is there, every advertised item is accepted by validation and planning and a sample
// of them works in a real container, and what it leaves out is refused.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAP } from '../bindings/constants.js';
import { libseccomp } from '../bindings/seccomp.js';
import type { Config } from '../src/config/types.js';
import { errorsOf, validateConfig } from '../src/config/validate.js';
import { validateFeaturesSchema } from '../src/generated/validators.js';
import { gatherFsHostFacts } from '../src/runtime/planner/fs-host.js';
import { plan } from '../src/runtime/planner/index.js';
import { gatherProcessHostFacts } from '../src/runtime/planner/process-host.js';
import { berth } from './helpers/berth.js';
import { bundleFor, type Bundle, type OciConfig } from './helpers/bundle.js';
import { officialChecks, SPEC_SCHEMAS_ABSENT } from './helpers/spec-schemas.js';
import { tempRoot, uniqueId } from './helpers/state.js';

const features = (): Record<string, any> => {
  const r = berth(['features']);
  if (r.status !== 0) throw new Error(`berth features: ${r.stderr}`);
  return JSON.parse(r.stdout);
};
const advertised = features();
const seccomp = advertised['linux']['seccomp'];

const asRoot = process.getuid?.() === 0 ? false : 'needs root';

/** A host directory for bind mounts, removed at teardown. */
function hostDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-features-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What `create` does before it touches anything: validate, gather host facts, plan. */
async function planned(bundle: Bundle, config: OciConfig): Promise<string | null> {
  const problems = errorsOf(validateConfig(config, { forCreate: true }));
  if (problems.length > 0) return `validate: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
  const cfg = config as Config;
  try {
    const host = { fs: await gatherFsHostFacts(cfg, bundle.dir, bundle.rootfs), process: await gatherProcessHostFacts(cfg, bundle.rootfs) };
    plan({ config: cfg, bundle: bundle.dir, rootfs: bundle.rootfs, mode: 'create', gate: { kind: 'pipe' }, preserveFds: 0, noPivot: false, host });
    return null;
  } catch (error) {
    return `plan: ${(error as Error).message}`;
  }
}

/** `berth run` of a bundle in the foreground, under a --root of the test's own. */
function run(t: Test, bundle: Bundle) {
  const root = tempRoot(t);
  const id = uniqueId('features');
  t.teardown(() => void berth(['--root', root, 'delete', '--force', id]));
  return { ...berth(['--root', root, 'run', '--bundle', bundle.dir, id], { input: '' }), root, id };
}

const withConfig = (bundle: Bundle, edit: (config: OciConfig) => void): OciConfig => {
  const config = structuredClone(bundle.config);
  edit(config);
  return config;
};

t.test('the document is valid by berth\'s features schema and by the runtime-spec\'s', async (t) => {
  t.ok(validateFeaturesSchema(advertised), JSON.stringify((validateFeaturesSchema as any).errors));
  t.test('the runtime-spec\'s features-schema.json', { skip: SPEC_SCHEMAS_ABSENT }, async (t) => {
    t.ok(officialChecks().features(advertised));
  });
});

t.test('every list is there and not empty', async (t) => {
  t.equal(advertised['ociVersionMin'], '1.0.0');
  t.equal(advertised['ociVersionMax'], '1.3.0');
  for (const [name, list] of Object.entries({
    hooks: advertised['hooks'],
    mountOptions: advertised['mountOptions'],
    namespaces: advertised['linux']['namespaces'],
    capabilities: advertised['linux']['capabilities'],
  })) {
    t.ok(Array.isArray(list) && list.length > 0, `${name}: ${list?.length} entries`);
  }
  t.same(advertised['linux']['cgroup'], { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true });
  for (const off of ['apparmor', 'selinux', 'intelRdt', 'netDevices']) t.same(advertised['linux'][off], { enabled: false }, off);
  t.same(advertised['linux']['mountExtensions'], { idmap: { enabled: false } });
  t.equal(seccomp.enabled, libseccomp() !== null, 'seccomp is on offer exactly when libseccomp is installed');
  if (seccomp.enabled) {
    for (const list of ['actions', 'operators', 'archs', 'knownFlags', 'supportedFlags']) t.ok(seccomp[list].length > 0, `seccomp.${list}`);
    t.ok(seccomp.archs.includes(process.arch === 'arm64' ? 'SCMP_ARCH_AARCH64' : 'SCMP_ARCH_X86_64'), 'this machine\'s architecture');
  }
});

t.test('what berth refuses is not advertised', async (t) => {
  t.notOk(advertised['mountOptions'].includes('idmap'), 'idmapped mounts');
  if (seccomp.enabled) {
    t.notOk(seccomp.actions.includes('SCMP_ACT_NOTIFY'), 'seccomp user notification');
    t.notOk(seccomp.supportedFlags.includes('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'), 'a flag that needs a listener');
    t.ok(seccomp.knownFlags.includes('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'), 'though berth knows it');
  }
});

t.test('every advertised mount option passes validation and planning', async (t) => {
  const bundle = bundleFor(t, { rootfs: 'shared' });
  const source = hostDir(t);
  const refused: string[] = [];
  for (const option of advertised['mountOptions'] as string[]) {
    const bind = option === 'bind' || option === 'rbind';
    const mount = bind
      ? { destination: '/mnt', type: 'bind', source, options: [option] }
      : { destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: [option] };
    const why = await planned(bundle, withConfig(bundle, (c) => c['mounts'].push(mount)));
    if (why) refused.push(`${option}: ${why}`);
  }
  t.same(refused, [], `all ${advertised['mountOptions'].length} options`);
  t.match(await planned(bundle, withConfig(bundle, (c) => c['mounts'].push({ destination: '/mnt', type: 'bind', source, options: ['rbind', 'idmap'] }))) ?? '', /mount option "idmap" is not supported/, 'while idmap is refused');
});

t.test('a sample of the mount options, in a real container', { skip: asRoot }, async (t) => {
  const source = hostDir(t);
  writeFileSync(join(source, 'file'), 'from the host\n');
  const bundle = bundleFor(t, {
    args: ['sh', '-c', 'grep -E " /(mnt|bound) " /proc/self/mounts; cat /bound/file'],
    mounts: [
      { destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'noatime', 'size=1m', 'notmpcopyup'] },
      { destination: '/bound', type: 'bind', source, options: ['rbind', 'rro', 'rprivate'] },
    ],
  });
  const r = run(t, bundle);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^tmpfs \/mnt tmpfs rw,nosuid,nodev,noexec,noatime,size=1024k/m, 'tmpfs flags');
  t.match(r.stdout, /^\S+ \/bound \S+ ro[, ]/m, 'the recursive read-only bind');
  t.match(r.stdout, /from the host/, 'shows the host directory');
});

t.test('tmpcopyup: a writable /etc under a read-only root, with the image\'s files in it', { skip: asRoot }, async (t) => {
  const bundle = bundleFor(t, {
    args: ['sh', '-c', 'grep "^root:" /etc/passwd; touch /etc/new && echo writable; touch /x'],
    mounts: [{ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }],
    patch: { root: { readonly: true } },
  });
  const r = run(t, bundle);
  t.equal(r.status, 1, 'the probe\'s last write, to the read-only root, fails');
  t.match(r.stdout, /^root:x:0:0:/m, 'the image\'s /etc/passwd was copied');
  t.match(r.stdout, /^writable$/m);
  t.notOk(existsSync(join(bundle.rootfs, 'etc', 'new')), 'the write stayed in the tmpfs');
});

t.test('every advertised namespace is the container\'s own', { skip: asRoot }, async (t) => {
  const types: string[] = advertised['linux']['namespaces'];
  const proc: Record<string, string> = { mount: 'mnt', network: 'net' };
  const link = (type: string) => proc[type] ?? type;
  const bundle = bundleFor(t, {
    args: ['sh', '-c', types.map((type) => `echo ${type} $(readlink /proc/self/ns/${link(type)})`).join('; ')],
    edit: (c) => {
      c['linux'].namespaces = types.map((type) => ({ type }));
      if (types.includes('user')) {
        c['linux'].uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        c['linux'].gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      }
    },
  });
  const r = run(t, bundle);
  t.equal(r.status, 0, r.stderr);
  const seen = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
  for (const type of types) {
    const host = readlinkSync(`/proc/self/ns/${link(type)}`);
    t.ok(seen[type] && seen[type] !== host, `${type}: ${seen[type]} (host ${host})`);
  }
});

t.test('every advertised capability can be granted', { skip: asRoot }, async (t) => {
  const lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  const caps: string[] = advertised['linux']['capabilities'];
  t.ok(caps.length >= lastCap + 1, `berth names all ${lastCap + 1} capabilities of this kernel`);
  // A container can only get what berth itself may grant: the test's own bounding set
  // (all of them on a plain root shell; less where the test itself runs confined).
  const ours = BigInt(`0x${/^CapBnd:\s+(\w+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
  const grantable = caps.filter((name) => CAP[name]! <= lastCap && (ours >> BigInt(CAP[name]!)) & 1n);
  const bundle = bundleFor(t, {
    args: ['grep', '^Cap', '/proc/self/status'],
    edit: (c) => void (c['process'].capabilities = { bounding: grantable, effective: grantable, permitted: grantable, inheritable: grantable, ambient: grantable }),
  });
  const r = run(t, bundle);
  t.equal(r.status, 0, r.stderr);
  const mask = ours.toString(16).padStart(16, '0');
  for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) t.match(r.stdout, new RegExp(`^${set}:\\s+${mask}$`, 'm'), `${set}: all ${grantable.length}`);
});

t.test('every advertised hook kind runs', { skip: asRoot }, async (t) => {
  const hooks: string[] = advertised['hooks'];
  const bundle = bundleFor(t, { args: ['true'], edit: (c) => void (c['root'].readonly = false) });
  const mark = (hook: string) => (hook === 'startContainer' ? join(bundle.rootfs, hook) : bundle.path(hook));
  // startContainer runs inside the container: its path and the file it writes are the container's.
  bundle.config['hooks'] = Object.fromEntries(hooks.map((hook) => [hook, [{
    path: '/bin/sh',
    args: ['sh', '-c', `cat > ${hook === 'startContainer' ? `/${hook}` : mark(hook)}`],
  }]]));
  bundle.write();
  const r = run(t, bundle);
  t.equal(r.status, 0, r.stderr);
  for (const hook of hooks) {
    t.ok(existsSync(mark(hook)), `${hook} ran`);
    t.equal(JSON.parse(readFileSync(mark(hook), 'utf8') || '{}').id, r.id, `${hook} got the state on stdin`);
  }
});

t.test('every advertised seccomp action, operator, architecture and flag, in one real filter', { skip: asRoot || (seccomp.enabled ? false : 'libseccomp is not installed') }, async (t) => {
  // Each action on a call grep never makes, and each operator on personality(2), which
  // it does not make either: the filter is real, and the container runs under it.
  const unused = ['acct', 'swapon', 'swapoff', 'vhangup', 'kexec_load', 'init_module', 'delete_module', 'iopl', 'ioperm'];
  const actions: string[] = seccomp.actions.filter((a: string) => a !== 'SCMP_ACT_ALLOW');
  t.ok(unused.length >= actions.length, 'enough unused calls');
  const syscalls = [
    ...actions.map((action, i) => ({ names: [unused[i]!], action })),
    ...(seccomp.operators as string[]).map((op) => ({ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0x7777777, valueTwo: 0x7777777, op }] })),
  ];
  const profile = { defaultAction: 'SCMP_ACT_ALLOW', architectures: seccomp.archs, flags: seccomp.supportedFlags, syscalls };
  const bundle = bundleFor(t, { args: ['grep', '^Seccomp:', '/proc/self/status'], edit: (c) => void (c['linux'].seccomp = profile) });
  t.equal(await planned(bundle, bundle.config), null, 'validated, compiled and planned');
  const r = run(t, bundle);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^Seccomp:\s+2$/m, 'the container runs under the filter');
});

t.test('SCMP_ACT_NOTIFY is refused before anything runs', { skip: asRoot || (seccomp.enabled ? false : 'libseccomp is not installed') }, async (t) => {
  const bundle = bundleFor(t, {
    args: ['true'],
    edit: (c) => void (c['linux'].seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_NOTIFY' }] }),
  });
  const r = run(t, bundle);
  t.not(r.status, 0);
  t.match(r.stderr, /^berth: linux\.seccomp\.syscalls\[0\]\.action: SCMP_ACT_NOTIFY needs a seccomp listener/);
  t.notOk(existsSync(join(r.root, r.id)), 'no container state');
});
