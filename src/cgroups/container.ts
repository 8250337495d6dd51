// A container as the cgroup commands (pause, resume, update, events, ps) see it: its
// state record and status, read through the state store exactly as the lifecycle
// commands read them (same id rules, same status derivation, same locks), and the
// cgroups that record names.
import { BerthError } from '../errors.js';
import { StateStore, type ContainerRecord, type LockedContainer, type Status } from '../state/index.js';
import { openCgroups, type CgroupHandle } from './index.js';

export interface CgroupContainer {
  record: ContainerRecord;
  /** As `berth state` would report it now. */
  status: Status;
  cgroups: CgroupHandle;
}

/**
 * For the commands that only look (ps, events): no lock, as `state` and `kill` read a
 * container, so that they work while another command holds it.
 */
export function readContainer(root: string, id: string): CgroupContainer {
  const container = new StateStore(root).open(id, 'none');
  try {
    return withCgroups(container);
  } finally {
    container.close();
  }
}

/**
 * For the commands that change the cgroups (pause, resume, update): the container is
 * held locked as start and delete hold it, so a concurrent delete cannot remove the
 * cgroups halfway through the change.
 */
export function changeContainer<T>(root: string, id: string, change: (container: CgroupContainer) => T): T {
  const container = new StateStore(root).open(id, 'exclusive');
  try {
    return change(withCgroups(container));
  } finally {
    container.close();
  }
}

/** runc's rule for these commands: a stopped container has nothing left to act on. */
function withCgroups(container: LockedContainer): CgroupContainer {
  const record = container.read();
  const status = container.status(record);
  if (status === 'stopped') throw new BerthError(`container ${record.id} is not running`);
  if (!record.cgroupPaths) throw new BerthError(`container ${record.id} has no cgroups`);
  return { record, status, cgroups: openCgroups(record.cgroupPaths) };
}
