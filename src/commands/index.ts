// Every command berth knows, with the one-line summary --help shows. Each has its own
// module src/commands/<name>.ts, loaded only when that command runs.

export const COMMANDS: Record<string, string> = {
  create: 'create a container from a bundle; its process waits for start',
  start: 'run the user process of a created container',
  run: 'create and start a container',
  state: "print a container's state as JSON",
  kill: "send a signal to a container's process",
  delete: 'delete a container and everything it holds',
  exec: 'run a new process inside a running container',
  ps: "list the processes running in a container",
  list: 'list the containers under --root',
  pause: "freeze a container's processes",
  resume: "thaw a paused container's processes",
  events: "print a container's resource usage and events",
  update: "change a running container's resource limits",
  spec: 'write a default config.json into a bundle',
  features: 'print what this build of berth supports, as JSON',
  validate: 'check a bundle against the runtime-spec without running it',
};
