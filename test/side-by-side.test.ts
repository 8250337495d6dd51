// berth side by side with runc 1.1.5 (the reference): the same bundle runs under each,
// every runtime with its own --root, and what the container observes must be the same.
// One probe script per config; the outputs are compared after normalizing only what
// cannot be the same (mount ids, host paths, dates).
import t, { type Test } from 'tap';
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFor, describeResult, resolveRuntime, which, type Bundle, type BundleOptions, type OciConfig } from './helpers/bundle.js';
import { withOwnRoot } from './helpers/own-root.js';

const RUNC = which('runc') ?? (existsSync('/usr/sbin/runc') ? '/usr/sbin/runc' : undefined);
const skip = RUNC ? false : 'runc is not installed: nothing to compare against';

/** What a side-by-side test does around each run: `prepare` the fresh bundle, `observe` after it. */
interface Around {
  /** Called on each fresh bundle before it runs (files in its rootfs, hooks in its config). */
  prepare?: (bundle: Bundle) => void;
  /** What to compare, read after the run; by default what the probe printed. */
  observe?: (stdout: string, bundle: Bundle) => string;
}

/**
 * Runs `probe` (a sh script; its stderr goes to stdout too) under runc, then berth, each
 * on a fresh bundle built from the same options so that neither sees what the other
 * wrote, and returns what each printed, or what `observe` read (runc's first).
 * Undefined when a run failed.
 */
function sideBySide(t: Test, probe: string, options: BundleOptions = {}, around: Around = {}): [runc: string, berth: string] | undefined {
  const outputs: string[] = [];
  for (const rt of [resolveRuntime(RUNC!), resolveRuntime('berth')]) {
    // The probe's own status is part of what is compared (a write meant to fail ends it
    // non-zero under both runtimes); the container itself must run under both.
    const bundle = bundleFor(t, { ...options, args: ['sh', '-c', `exec 2>&1; ${probe}\necho "probe status $?"`] });
    around.prepare?.(bundle);
    const r = withOwnRoot(t, rt).run(bundle);
    if (!t.equal(r.status, 0, `${describeResult(r)}\n${r.stdout}`)) return undefined;
    outputs.push(around.observe ? around.observe(r.stdout, bundle) : r.stdout);
  }
  return outputs as [string, string];
}

/** Compares the two outputs after `normalize`; a mismatch shows as a diff (berth found, runc wanted). */
function compare(t: Test, probe: string, options: BundleOptions = {}, normalize: (output: string) => string = normalizeAll): void {
  const outputs = sideBySide(t, probe, options);
  if (!outputs) return;
  const [runc, berth] = outputs.map(normalize);
  t.equal(berth, runc, 'berth (found) sees what runc (wanted) sees');
}

// /proc/self/mountinfo: "id parent major:minor root mountpoint options [optional...] - fstype source superoptions".
const MOUNTINFO = /^\d+ \d+ \d+:\d+ \S+ (\S+) (\S+)((?: \S+)*?) - (\S+) \S+ (\S+)$/;

/**
 * A mountinfo line as what the container can rely on: mount point, fs type, per-mount
 * options and propagation (its peer group numbers dropped). Mount ids, devices, the
 * source and the root within the source name host things, except a cgroup mount's root:
 * which cgroup the container sees, its own or the host's.
 */
function normalizeMountinfo(line: string): string {
  const m = MOUNTINFO.exec(line);
  if (!m) return line;
  const [, point, options, optional, fstype] = m;
  const propagation = optional!.trim().split(' ').filter(Boolean).map((field) => field.replace(/:\d+$/, ''));
  const cgroup = fstype!.startsWith('cgroup') ? [line.split(' ')[3]!] : [];
  return ['mount', point, fstype, ...cgroup, options, ...propagation].join(' ');
}

/** The ids the bundle helper gives containers (`runc-<pid>-<n>-<hex>`, `berth-...`). */
const CONTAINER_ID = /\b(?:runc|berth)-\d+-\d+-[0-9a-f]+\b/g;

// busybox `ls -l`: "mode links owner group size-or-major,minor month day time-or-year name".
const LS_LONG = /^([-a-zA-Z]{10})\s+(\d+)\s+(\S+)\s+(\S+)\s+(\d+,\s*\d+|\d+)\s+\w{3}\s+\d+\s+[\d:]+\s+(.*)$/;

/** An `ls -l` line without its date, the columns single-spaced. */
function normalizeLsLong(line: string): string {
  const m = LS_LONG.exec(line);
  if (!m) return line;
  const [, mode, links, owner, group, size, name] = m;
  return [mode, links, owner, group, size!.replace(/\s+/g, ''), name].join(' ');
}

/** Mount points and ls lines made comparable, and the two containers' ids made alike. */
function normalizeAll(output: string): string {
  return output.replace(CONTAINER_ID, '<id>').split('\n').map((line) => normalizeLsLong(normalizeMountinfo(line))).join('\n');
}

const HOST_NS = Object.fromEntries(readdirSync('/proc/self/ns').map((name) => [name, readlinkSync(`/proc/self/ns/${name}`)]));

/** `ns <name> <link>` lines (printed by NS_PROBE) become `ns <name> host|new`. */
function normalizeNamespaces(output: string): string {
  return normalizeAll(output).replace(/^ns (\S+) (\S+)$/gm, (_, name: string, link: string) => `ns ${name} ${HOST_NS[name] === link ? 'host' : 'new'}`);
}

const NS_PROBE = 'for f in /proc/self/ns/*; do echo "ns ${f##*/} $(readlink $f)"; done';
const STATUS = "grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs|Seccomp):' /proc/self/status";

t.test('the default config (runc spec)', { skip }, async (t) => {
  compare(t, `id; hostname; pwd; umask; ${STATUS}; ulimit -n; cat /proc/self/mountinfo /proc/self/cgroup`, { rootfs: 'shared' });
});

t.test('namespaces: runc spec default set (pid, net, ipc, uts, mount)', { skip }, async (t) => {
  compare(t, `hostname; ${NS_PROBE}; echo pid $$; ip -o link | cut -d: -f2`, { rootfs: 'shared' }, normalizeNamespaces);
});

t.test('namespaces: only pid, uts and mount are new; the host network and ipc are shared', { skip }, async (t) => {
  const edit = (config: OciConfig) => {
    config['linux'].namespaces = [{ type: 'pid' }, { type: 'uts' }, { type: 'mount' }];
    config['hostname'] = 'side-by-side';
    // sysfs needs a network namespace of its own: the host's /sys, read-only, instead
    const sys = config['mounts'].find((m: { destination: string }) => m.destination === '/sys');
    Object.assign(sys, { type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  };
  compare(t, `hostname; ${NS_PROBE}; echo pid $$`, { rootfs: 'shared', edit }, normalizeNamespaces);
});

t.test('mounts: an extra tmpfs with options and a read-only bind of a host directory', { skip }, async (t) => {
  const host = mkdtempSync(join(tmpdir(), 'berth-sbs-host-'));
  t.teardown(() => rmSync(host, { recursive: true, force: true }));
  writeFileSync(join(host, 'file'), 'from the host\n');
  const mounts = [
    { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1770', 'size=1m', 'uid=5', 'gid=5'] },
    { destination: '/mnt/host', type: 'bind', source: host, options: ['rbind', 'ro'] },
  ];
  const probe = 'cat /proc/self/mountinfo; ls -ld /scratch; df -k /scratch | tail -1 | awk \'{print $2}\'; cat /mnt/host/file; touch /mnt/host/x; touch /scratch/y && echo scratch writable';
  compare(t, probe, { mounts });
});

t.test('users: uid, gid, additionalGids and umask', { skip }, async (t) => {
  const patch = { process: { user: { uid: 1000, gid: 1000, additionalGids: [5, 100, 65534], umask: 0o027 } } };
  compare(t, `id; umask; ${STATUS}; touch /tmp/f; ls -ln /tmp/f | cut -c1-10`, { patch });
});

t.test('capabilities: a reduced set, different in every category', { skip }, async (t) => {
  const patch = {
    process: {
      capabilities: {
        bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID'],
        permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'],
        effective: ['CAP_KILL', 'CAP_NET_RAW'],
        inheritable: ['CAP_KILL', 'CAP_NET_RAW'],
        ambient: ['CAP_KILL'],
      },
    },
  };
  compare(t, `${STATUS}; chown 5 /tmp && echo chown ok; touch /tmp/y`, { patch });
});

t.test('rlimits: NOFILE lowered, CORE and NPROC set', { skip }, async (t) => {
  const patch = {
    process: {
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 256, hard: 512 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
        { type: 'RLIMIT_NPROC', soft: 4096, hard: 8192 },
      ],
    },
  };
  compare(t, 'cat /proc/self/limits; ulimit -n; ulimit -Hn', { rootfs: 'shared', patch });
});

t.test('readonly rootfs: writes fail, the root mount is ro', { skip }, async (t) => {
  compare(t, 'touch /x; mkdir /y; grep " / / " /proc/self/mountinfo', { patch: { root: { readonly: true } } });
});

t.test('writable rootfs: writes succeed, the root mount is rw', { skip }, async (t) => {
  compare(t, 'touch /x && echo wrote; grep " / / " /proc/self/mountinfo', { patch: { root: { readonly: false } } });
});

t.test('maskedPaths and readonlyPaths', { skip }, async (t) => {
  const probe = [
    'cat /proc/kcore | wc -c', 'ls -l /proc/kcore', 'ls /proc/scsi', 'ls -ld /proc/scsi', 'cat /proc/keys | wc -c',
    'touch /proc/sys/x', 'echo 1 > /proc/sys/kernel/domainname', 'echo 1 > /proc/sysrq-trigger', 'ls /sys/firmware',
    "grep -E ' /proc/(sys|bus|fs|irq|sysrq-trigger|kcore|keys|scsi) ' /proc/self/mountinfo",
  ].join('; ');
  compare(t, probe, { rootfs: 'shared' });
});

t.test('/dev: names, types, owners, device numbers and modes', { skip }, async (t) => {
  compare(t, 'ls -l /dev; ls -l /dev/pts /dev/shm /dev/mqueue', { rootfs: 'shared' });
});

t.test('env and cwd (HOME from /etc/passwd when unset)', { skip }, async (t) => {
  const patch = { process: { cwd: '/tmp', env: ['PATH=/bin', 'GREETING=hello world', 'EMPTY=', 'TERM=dumb'] } };
  compare(t, 'pwd; env | sort', { rootfs: 'shared', patch });
});

// runc spec's root is read-only: the cwd must be made before / turns read-only.
t.test('cwd that does not exist yet is created', { skip }, async (t) => {
  compare(t, 'pwd; ls -ld .', { patch: { process: { cwd: '/work/dir' } } });
});

// Every hook kind but poststart (runc 1.1.5 runs those during create, before the process:
// a deviation conformance/deviations.ts documents) logs, in order, the status it was
// given and whose mount, uts and pid namespaces it runs in. startContainer runs in the
// container and reaches the log through a bind mount of the bundle directory (which,
// with the shared rootfs, holds only config.json, the hook script and the log).
t.test('hooks: order, the status each gets, the namespaces each runs in', { skip }, async (t) => {
  const prepare = (bundle: Bundle) => {
    writeFileSync(bundle.path('hook.sh'), [
      'status=$(sed -n \'s/.*"status":"\\([a-z]*\\)".*/\\1/p\')',
      '{ echo "hook $1 $status"; for n in mnt uts pid; do echo "ns $n $(readlink /proc/self/ns/$n)"; done; } >> "$LOG"',
    ].join('\n'));
    const onHost = (name: string) => ({ path: '/bin/sh', args: ['sh', bundle.path('hook.sh'), name], env: [`LOG=${bundle.path('log')}`] });
    bundle.config['hooks'] = {
      prestart: [onHost('prestart')],
      createRuntime: [onHost('createRuntime')],
      createContainer: [onHost('createContainer')],
      startContainer: [{ path: '/bin/sh', args: ['sh', '/hooks/hook.sh', 'startContainer'], env: ['LOG=/hooks/log'] }],
      poststop: [onHost('poststop')],
    };
    bundle.config['mounts'].push({ destination: '/hooks', type: 'bind', source: bundle.dir, options: ['rbind'] });
    bundle.write();
  };
  const observe = (_stdout: string, bundle: Bundle) => readFileSync(bundle.path('log'), 'utf8');
  const logs = sideBySide(t, 'echo process >> /hooks/log', { rootfs: 'shared' }, { prepare, observe });
  if (!logs) return;
  const [runc, berth] = logs.map(normalizeNamespaces);
  const lines = (log: string) => log.split('\n').filter((l) => !l.startsWith('ns '));
  t.same(lines(runc!), ['hook prestart creating', 'hook createRuntime creating', 'hook createContainer creating', 'hook startContainer created', 'process', 'hook poststop stopped', ''],
    'every hook logged, in the order runc runs them');
  t.match(runc, /hook createContainer creating\nns mnt new\nns uts new\nns pid new\n/, 'createContainer in the container\'s namespaces');
  t.equal(berth, runc, 'berth (found) gives hooks what runc (wanted) gives');
});

// tmpcopyup (podman puts it on every --tmpfs): the tmpfs starts with the image's files,
// owners, modes and links, and is the container's own to write. Where berth differs on
// purpose: runc makes directories with the runtime's umask applied and drops their
// set-gid bit; berth copies their modes exactly (test/planner-fs.test.ts), so the
// directories here have plain 0755. Not compared: the mode of the tmpfs's root. runc
// 1.1.5 chmods any tmpfs mounted over an existing directory to that directory's mode,
// whatever its mode= option says; berth leaves it as mode= (or tmpfs's 1777) makes it.
t.test('tmpfs with tmpcopyup over a directory the image has filled', { skip }, async (t) => {
  const probe = 'ls -lnR /data | grep -v "^total"; cat /data/sub/file; readlink /data/link; grep " /data " /proc/self/mountinfo; touch /data/new && echo writable';
  const mounts = [{ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'tmpcopyup'] }];
  const prepare = (bundle: Bundle) => {
    const data = join(bundle.rootfs, 'data');
    mkdirSync(join(data, 'sub', 'empty'), { recursive: true });
    writeFileSync(join(data, 'sub', 'file'), 'from the image\n');
    chmodSync(join(data, 'sub', 'file'), 0o640);
    chownSync(join(data, 'sub', 'file'), 5, 7);
    symlinkSync('/etc/hostname', join(data, 'link'));
    lchownSync(join(data, 'link'), 3, 4);
  };
  const outputs = sideBySide(t, probe, { mounts }, { prepare });
  if (!outputs) return;
  const [runc, berth] = outputs.map(normalizeAll);
  t.match(runc, /\/etc\/hostname\n/, 'runc copied the image\'s files');
  t.match(runc, /-rw-r----- 1 5 7 15 file/, 'with their owners and modes');
  t.equal(berth, runc, 'berth (found) sees what runc (wanted) sees');
});
