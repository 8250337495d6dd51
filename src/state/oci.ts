// The state a container reports (`berth state`, `berth list -f json`, hooks' stdin):
// runtime-spec's fields in runc's order, plus runc's extras rootfs, created and owner.
import type { ContainerRecord } from './record.js';
import type { Status } from './status.js';

export interface OciState {
  ociVersion: string;
  id: string;
  /** 0 once stopped, as runc reports it: the pid may already belong to someone else. */
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export function ociState(record: ContainerRecord, status: Status): OciState {
  const state: OciState = {
    ociVersion: record.ociVersion,
    id: record.id,
    pid: status === 'stopped' ? 0 : record.pid,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
  };
  if (Object.keys(record.annotations).length > 0) state.annotations = record.annotations;
  return state;
}
