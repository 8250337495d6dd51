// The state store as commands use it.
export { StateStore, LockedContainer, ContainerNotFound, STATE_FILE, EXEC_FIFO } from './store.js';
export { validateId, MAX_ID_LENGTH } from './id.js';
export type { ContainerRecord } from './record.js';
export { deriveStatus, isPaused, type Status } from './status.js';
export { ociState, type OciState } from './oci.js';
export { procStat, isAlive } from './proc.js';
