import { constants, openSync, writeSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import type { GlobalOptions } from '../options.js';
import { BerthError } from '../errors.js';
import { SPEC_VERSION } from '../version.js';
import { COMMANDS } from './index.js';

export const command = 'spec';
export const describe = COMMANDS['spec']!;
export const builder = (y: Argv<GlobalOptions>) => {
  // runc spec's --rootless is a plain flag that shadows the global --rootless
  // (true|false|auto): drop the global's choices so that `spec --rootless` parses.
  delete (y as unknown as { getOptions(): { choices: Record<string, unknown> } }).getOptions().choices['rootless'];
  return y
    .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'bundle directory to write config.json into' })
    .option('rootless', { type: 'boolean', default: false, describe: 'a config for a container run by an unprivileged user' });
};

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** `runc spec`'s defaults, so that a bundle made by either runtime runs the same in both. */
export function defaultConfig(): Record<string, any> {
  return {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...CAPS], effective: [...CAPS], permitted: [...CAPS], ambient: [...CAPS] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'berth',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/**
 * What an unprivileged user can run (runc spec --rootless): a user namespace mapping the
 * caller to root, no network namespace (it could not be configured), no devpts gid=5
 * (unmapped), /sys bound from the host (sysfs cannot be mounted without a network
 * namespace of one's own) and no resources (no cgroup permissions).
 */
export function rootlessConfig(uid = process.getuid!(), gid = process.getgid!()): Record<string, any> {
  const config = defaultConfig();
  const linux = config.linux;
  delete linux.resources;
  linux.namespaces = linux.namespaces.filter((ns: { type: string }) => ns.type !== 'network').concat({ type: 'user' });
  linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
  for (const mount of config.mounts) {
    if (mount.destination === '/dev/pts') mount.options = mount.options.filter((o: string) => o !== 'gid=5');
    if (mount.destination === '/sys') Object.assign(mount, { type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  }
  return config;
}

export function handler(args: Omit<GlobalOptions, 'rootless'> & { bundle: string; rootless: unknown }): void {
  const path = join(resolve(args.bundle), 'config.json');
  // The global --rootless (true|false|auto) and spec's own flag share a name, as in runc.
  const config = args.rootless === true || args.rootless === 'true' ? rootlessConfig() : defaultConfig();
  let fd: number;
  try {
    // O_EXCL: never overwrite a config someone wrote, even one that appears meanwhile.
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new BerthError(`${path} exists: remove it first`);
    throw new BerthError(`cannot write ${path}: ${(error as Error).message}`);
  }
  try {
    writeSync(fd, JSON.stringify(config, null, '\t'));
  } finally {
    closeSync(fd);
  }
}
