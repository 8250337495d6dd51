// Requirements a reference runtime is known not to meet, with the reason. The suite
// still runs them (so a fixed runtime shows up as a pass), but a failure listed here
// does not fail the run. Keys are test titles, exactly.

export const DEVIATIONS: Record<string, Record<string, string>> = {
  runc: {
    'config.md#poststart MUST: poststart hooks run after the user process starts, before start returns':
      'runc 1.1.5 runs poststart hooks during create, before the user process runs (fixed in runc 1.2)',
    'config.md#poststart MUST: a failing poststart hook is only a warning: the container keeps running':
      'runc 1.1.5 runs poststart hooks during create and fails create when one fails',
    'config.md#poststop MUST: a failing poststop hook is only a warning: delete succeeds and later hooks run':
      'runc 1.1.5 stops at the first failing poststop hook: the hooks after it do not run',
    'runtime.md#state MUST: createContainer hooks get the pid as seen by the host':
      "runc 1.1.5 runs createContainer hooks from inside the container and passes the pid of the container's pid namespace (1)",
    'config.md#domainname MUST: domainname is the container NIS domain name': 'runc 1.1.5 ignores domainname (added in runc 1.2)',
    'config-linux.md#namespaces MUST: a time namespace applies linux.timeOffsets': 'runc 1.1.5 does not support time namespaces (added in runc 1.2)',
    'config-linux.md#personality MUST: personality domain LINUX32 is the process execution domain': 'runc 1.1.5 ignores linux.personality (added in runc 1.2)',
    'config-linux.md#rootfs-mount-propagation MUST: rootfsPropagation shared makes the root mount shared':
      "runc 1.1.5 applies rootfsPropagation to the mount tree, then makes the rootfs's parent private and binds the rootfs: its / is private",
  },
};
