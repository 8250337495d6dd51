// What a config must satisfy beyond its schema: the rules runc (and the runtime-spec's
// prose) apply to fields in relation to each other. Every rule is a pure function of a
// schema-valid config; each problem names the field to fix.
import { posix } from 'node:path';
import type { Config, LinuxNamespace, Mount, NamespaceType } from './types.js';
import { CAPABILITIES, RLIMITS, sysctlNamespace } from './linux-names.js';
import { jsonPath, type Problem } from './problem.js';

export interface SemanticOptions {
  /** --systemd-cgroup: linux.cgroupsPath is then `slice:prefix:name`. */
  systemdCgroup?: boolean;
  /** The config is about to create a container (create, run, validate): root and process must be there. */
  forCreate?: boolean;
}

type Rule = (config: Config, options: SemanticOptions) => Problem[];

const isAbsolute = (path: string) => path.startsWith('/');

function mustBeAbsolute(path: string, value: string): Problem[] {
  return isAbsolute(value) ? [] : [{ path, message: `must be an absolute path, got ${JSON.stringify(value)}` }];
}

// The schema allows fields it does not know, so rules walk the known names only: an
// unknown field may hold anything.
const CAPABILITY_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;
const HOOK_STAGES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

/** The entry of each namespace type, and where it is first listed. */
function namespaces(config: Config): Map<NamespaceType, { index: number; ns: LinuxNamespace }> {
  const found = new Map<NamespaceType, { index: number; ns: LinuxNamespace }>();
  (config.linux?.namespaces ?? []).forEach((ns, index) => {
    if (!found.has(ns.type)) found.set(ns.type, { index, ns });
  });
  return found;
}

const required: Rule = (config, { forCreate }) => {
  if (!forCreate) return [];
  const problems: Problem[] = [];
  if (config.root === undefined) problems.push({ path: 'root', message: 'is required to create a container' });
  if (config.process === undefined) problems.push({ path: 'process', message: 'is required to create a container' });
  return problems;
};

const processRules: Rule = ({ process }) => {
  if (process === undefined) return [];
  const problems: Problem[] = [];
  if (!process.args || process.args.length === 0) {
    problems.push({ path: 'process.args', message: 'must name the program to run (at least one entry)' });
  }
  return [...problems, ...mustBeAbsolute('process.cwd', process.cwd)];
};

const capabilityRules: Rule = ({ process }) => {
  const problems: Problem[] = [];
  for (const set of CAPABILITY_SETS) {
    (process?.capabilities?.[set] ?? []).forEach((name, i) => {
      if (!CAPABILITIES.includes(name)) {
        problems.push({ path: jsonPath(['process', 'capabilities', set, i]), message: `unknown capability ${JSON.stringify(name)}` });
      }
    });
  }
  return problems;
};

const rlimitRules: Rule = ({ process }) => {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  (process?.rlimits ?? []).forEach((rlimit, i) => {
    const at = `process.rlimits[${i}]`;
    if (!RLIMITS.includes(rlimit.type)) {
      problems.push({ path: `${at}.type`, message: `unknown resource ${JSON.stringify(rlimit.type)}` });
    }
    const first = seen.get(rlimit.type);
    if (first !== undefined) {
      problems.push({ path: `${at}.type`, message: `${JSON.stringify(rlimit.type)} is already set by process.rlimits[${first}]` });
    } else {
      seen.set(rlimit.type, i);
    }
    if (rlimit.soft > rlimit.hard) {
      problems.push({ path: `${at}.soft`, message: `must not exceed hard (${rlimit.soft} > ${rlimit.hard})` });
    }
  });
  return problems;
};

const namespaceRules: Rule = (config) => {
  const problems: Problem[] = [];
  const first = new Map<string, number>();
  (config.linux?.namespaces ?? []).forEach((ns, i) => {
    const earlier = first.get(ns.type);
    if (earlier !== undefined) {
      problems.push({ path: `linux.namespaces[${i}].type`, message: `${JSON.stringify(ns.type)} is already listed at linux.namespaces[${earlier}]` });
    } else {
      first.set(ns.type, i);
    }
    if (ns.path !== undefined) problems.push(...mustBeAbsolute(`linux.namespaces[${i}].path`, ns.path));
  });
  return problems;
};

const userNamespaceRules: Rule = (config) => {
  const user = namespaces(config).get('user');
  const problems: Problem[] = [];
  for (const field of ['uidMappings', 'gidMappings'] as const) {
    const mappings = config.linux?.[field] ?? [];
    if (user === undefined && mappings.length > 0) {
      problems.push({ path: `linux.${field}`, message: 'needs a user namespace: add {"type": "user"} to linux.namespaces' });
    }
    if (user !== undefined && user.ns.path === undefined && mappings.length === 0) {
      problems.push({ path: `linux.${field}`, message: `is required: linux.namespaces[${user.index}] creates a user namespace` });
    }
  }
  return problems;
};

const timeNamespaceRules: Rule = (config) => {
  if (config.linux?.timeOffsets === undefined) return [];
  const time = namespaces(config).get('time');
  if (time === undefined) {
    return [{ path: 'linux.timeOffsets', message: 'needs a time namespace: add {"type": "time"} to linux.namespaces' }];
  }
  if (time.ns.path !== undefined) {
    return [{ path: 'linux.timeOffsets', message: `cannot be applied to the existing time namespace joined by linux.namespaces[${time.index}]` }];
  }
  return [];
};

const hostnameRules: Rule = (config) => {
  const problems: Problem[] = [];
  const uts = namespaces(config).get('uts');
  for (const field of ['hostname', 'domainname'] as const) {
    if (config[field] && uts === undefined) {
      problems.push({ path: field, message: 'can only be set in a private UTS namespace: add {"type": "uts"} to linux.namespaces' });
    }
  }
  return problems;
};

// runtime-spec: destinations SHOULD be absolute and relative ones are taken relative to
// "/"; runc 1.1 accepts them with a warning. berth does the same, so that bundles that
// work with runc work with berth, while the user still hears about it.
function mountDestinationProblems(destination: string, i: number): Problem[] {
  if (isAbsolute(destination)) return [];
  const where = JSON.stringify(posix.join('/', destination));
  return [{ path: `mounts[${i}].destination`, message: `${JSON.stringify(destination)} is not absolute; it is mounted at ${where}`, warning: true }];
}

// An id-mapped mount maps both owners: with one table alone the kernel refuses it.
function mountMappingProblems(mount: Mount, i: number): Problem[] {
  const uid = (mount.uidMappings ?? []).length > 0;
  const gid = (mount.gidMappings ?? []).length > 0;
  if (uid === gid) return [];
  const missing = uid ? 'gidMappings' : 'uidMappings';
  return [{ path: `mounts[${i}].${missing}`, message: `is required: an id-mapped mount needs both uidMappings and gidMappings` }];
}

const mountRules: Rule = ({ mounts }) =>
  (mounts ?? []).flatMap((mount, i) => [...mountDestinationProblems(mount.destination, i), ...mountMappingProblems(mount, i)]);

const deviceRules: Rule = (config) => {
  const problems: Problem[] = [];
  (config.linux?.devices ?? []).forEach((device, i) => {
    problems.push(...mustBeAbsolute(`linux.devices[${i}].path`, device.path));
    if (device.type !== 'p') {
      for (const field of ['major', 'minor'] as const) {
        if (device[field] === undefined) {
          problems.push({ path: `linux.devices[${i}].${field}`, message: `is required for a device of type "${device.type}"` });
        }
      }
    }
  });
  return problems;
};

const hookRules: Rule = ({ hooks }) =>
  HOOK_STAGES.flatMap((stage) =>
    (hooks?.[stage] ?? []).flatMap((hook, i) => mustBeAbsolute(`hooks.${stage}[${i}].path`, hook.path)),
  );

function systemdCgroupsPath(path: string): string | undefined {
  const parts = path.split(':');
  if (parts.length !== 3) return `with --systemd-cgroup must be "slice:prefix:name", got ${JSON.stringify(path)}`;
  const [slice, , name] = parts as [string, string, string];
  if (slice !== '' && (!slice.endsWith('.slice') || slice.includes('/'))) {
    return `slice ${JSON.stringify(slice)} must be a systemd slice name ending in ".slice"`;
  }
  if (name === '') return `names no unit: the name after the last ":" is empty in ${JSON.stringify(path)}`;
  return undefined;
}

// Without systemd the path is taken under berth's cgroup root; ".." would climb out of
// it into cgroups berth did not create.
function cgroupfsCgroupsPath(path: string): string | undefined {
  if (path.split('/').includes('..')) return `must not contain ".." components, got ${JSON.stringify(path)}`;
  return undefined;
}

const cgroupsPathRules: Rule = (config, { systemdCgroup }) => {
  const path = config.linux?.cgroupsPath;
  if (path === undefined) return [];
  const message = systemdCgroup ? systemdCgroupsPath(path) : cgroupfsCgroupsPath(path);
  return message === undefined ? [] : [{ path: 'linux.cgroupsPath', message }];
};

const SYSCTL_KEY = /^[A-Za-z0-9_]+([./][A-Za-z0-9_:@+-]+)*$/;

const NAMESPACE_HINT: Record<string, string> = { ipc: 'an IPC', network: 'a network', uts: 'a UTS' };

const sysctlRules: Rule = (config) => {
  const own = namespaces(config);
  return Object.keys(config.linux?.sysctl ?? {}).flatMap((key): Problem[] => {
    const path = jsonPath(['linux', 'sysctl', key]);
    if (!SYSCTL_KEY.test(key)) return [{ path, message: 'is not a sysctl name (such as net.ipv4.ip_forward)' }];
    // sysctl(8) accepts "/" for "." (net/ipv4/ip_forward); the namespace is the same.
    const needed = sysctlNamespace(key.replaceAll('/', '.'));
    if (needed === undefined) return [{ path, message: 'is not namespaced: setting it would change the host' }];
    if (!own.has(needed)) {
      return [{ path, message: `needs ${NAMESPACE_HINT[needed]} namespace: add {"type": "${needed}"} to linux.namespaces` }];
    }
    return [];
  });
};

const RULES: readonly Rule[] = [
  required, processRules, capabilityRules, rlimitRules, namespaceRules, userNamespaceRules, timeNamespaceRules,
  hostnameRules, mountRules, deviceRules, hookRules, cgroupsPathRules, sysctlRules,
];

/** Every semantic problem of a schema-valid config. */
export function semanticProblems(config: Config, options: SemanticOptions = {}): Problem[] {
  return RULES.flatMap((rule) => rule(config, options));
}
