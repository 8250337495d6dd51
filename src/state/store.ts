// The state store: one directory per container under --root, each holding state.json
// and, between create and start, exec.fifo.
//
// Locking: every command that changes a container holds flock(2) on the
// container's directory itself (opened O_RDONLY|O_DIRECTORY). The kernel drops that lock
// when berth exits however it exits, so there is no lock file whose mere existence could
// go stale. Readers need no lock: state.json is only ever replaced by rename. Creation
// is atomic because mkdir is: of two `create`s of one id, exactly one gets the directory
// and the other EEXIST.
import {
  closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync,
  renameSync, rmSync, statSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { flock, LOCK_EX, LOCK_SH } from '../../bindings/libc.js';
import { BerthError } from '../errors.js';
import { validateId } from './id.js';
import { recordProblem, type ContainerRecord } from './record.js';
import { deriveStatus, type Status } from './status.js';

export const STATE_FILE = 'state.json';
export const EXEC_FIFO = 'exec.fifo';

/** The one error that means "no such container" (delete --force treats it as done). */
export class ContainerNotFound extends BerthError {
  constructor(readonly id: string) {
    super(`container "${id}" does not exist`);
  }
}

function notFound(id: string): BerthError {
  return new ContainerNotFound(id);
}

/** An open container directory, held locked (if it was opened so) until close() or remove(). */
export class LockedContainer {
  private fd: number | null;

  constructor(
    readonly id: string,
    readonly dir: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  get stateFile(): string {
    return join(this.dir, STATE_FILE);
  }

  get fifoPath(): string {
    return join(this.dir, EXEC_FIFO);
  }

  read(): ContainerRecord {
    let text: string;
    try {
      text = readFileSync(this.stateFile, 'utf8');
    } catch (error) {
      // A directory without state.json is a create that has not written it yet, or failed.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(this.id);
      throw new BerthError(`cannot read ${this.stateFile}: ${(error as Error).message}`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new BerthError(`corrupt state file ${this.stateFile}: ${(error as Error).message}`);
    }
    const problem = recordProblem(value);
    if (problem) throw new BerthError(`corrupt state file ${this.stateFile}: ${problem}`);
    return value as ContainerRecord;
  }

  /** Replace state.json atomically: readers see the old record or the new one, never a mix. */
  write(record: ContainerRecord): void {
    const temp = join(this.dir, `.${STATE_FILE}.${process.pid}.tmp`);
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    try {
      writeSync(fd, JSON.stringify(record));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.stateFile);
    fsyncSync(this.lockFd());
  }

  status(record: ContainerRecord): Status {
    return deriveStatus(record, this.fifoPath);
  }

  /** Delete the directory and everything in it, then let go of the lock. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
    this.close();
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }

  private lockFd(): number {
    if (this.fd === null) throw new Error(`container ${this.id}: lock already released`);
    return this.fd;
  }
}

export class StateStore {
  constructor(readonly root: string) {}

  dirOf(id: string): string {
    return join(this.root, validateId(id));
  }

  /** Claim a new id: the directory is created atomically and returned locked. */
  create(id: string): LockedContainer {
    const dir = this.dirOf(id);
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new BerthError(`container "${id}" already exists`);
      throw new BerthError(`cannot create state directory ${dir}: ${(error as Error).message}`);
    }
    try {
      return this.lock(id, dir, LOCK_EX);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Open an existing container: exclusive to change it, shared to keep it from changing
   * meanwhile, or no lock at all to read it (state.json is replaced atomically, so a
   * reader needs none; and a hook that runs `berth state` while create or delete holds
   * the lock must not wait for that very lock).
   */
  open(id: string, lock: 'none' | 'shared' | 'exclusive'): LockedContainer {
    const operations = { none: null, shared: LOCK_SH, exclusive: LOCK_EX };
    return this.lock(id, this.dirOf(id), operations[lock]);
  }

  /** Ids of every container directory under root, sorted (as runc lists them). */
  ids(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new BerthError(`cannot list ${this.root}: ${(error as Error).message}`);
    }
    return names.sort();
  }

  private lock(id: string, dir: string, operation: number | null): LockedContainer {
    let fd: number;
    try {
      fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw notFound(id);
      throw new BerthError(`cannot open state directory ${dir}: ${(error as Error).message}`);
    }
    try {
      if (operation !== null) flock(fd, operation);
      // While we waited, the holder may have deleted the container (and someone may
      // even have created a new one of the same id): the directory we locked must still
      // be the one at that path.
      if (!sameInode(fd, dir)) throw notFound(id);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return new LockedContainer(id, dir, fd);
  }
}

function sameInode(fd: number, path: string): boolean {
  const held = fstatSync(fd);
  try {
    const current = statSync(path);
    return held.ino === current.ino && held.dev === current.dev && held.nlink > 0;
  } catch {
    return false;
  }
}
