// The koffi layer over glibc: the library is loaded once, functions are declared on
// first use, and every wrapper turns -1/errno into a SysError that names the call.
//
// koffi itself is loaded on first use too: it costs ~11 ms, and the commands engines
// call most (state, list) make no call through it.
import { createRequire } from 'node:module';
import type { LibraryHandle } from 'koffi';
import { errnoName } from './errno.js';

type Koffi = typeof import('koffi');

const requireHere = createRequire(import.meta.url);
let koffiModule: Koffi | undefined;
let libcHandle: LibraryHandle | undefined;

function koffi(): Koffi {
  koffiModule ??= requireHere('koffi') as Koffi;
  return koffiModule;
}

/** glibc, opened on first use. */
export function libc(): LibraryHandle {
  libcHandle ??= koffi().load('libc.so.6');
  return libcHandle;
}

/** A failed system call: `open("/x"): ENOENT`. */
export class SysError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly call: string;

  constructor(call: string, errno: number) {
    const code = errnoName(errno);
    super(`${call}: ${code}`);
    this.name = 'SysError';
    this.errno = errno;
    this.code = code;
    this.call = call;
  }
}

type Func = ReturnType<LibraryHandle['func']>;

const declared = new Map<string, Func>();

/** Declare a libc function by its C prototype, once. */
export function fn(prototype: string): Func {
  let f = declared.get(prototype);
  if (!f) {
    f = libc().func(prototype);
    declared.set(prototype, f);
  }
  return f;
}

const errnoLocation = () => fn('int *__errno_location()')();

/** The calling thread's errno (read right after the call it belongs to). */
export function errno(): number {
  return koffi().decode(errnoLocation(), 'int') as number;
}

/** The address of the main thread's errno: the same address in a cloned child. */
export function errnoAddress(): bigint {
  return koffi().address(errnoLocation());
}

/** Render call arguments for error messages: strings quoted, numbers plain. */
export function describeCall(name: string, args: readonly unknown[]): string {
  const shown = args.map((a) => (typeof a === 'string' ? JSON.stringify(a) : String(a)));
  return `${name}(${shown.join(', ')})`;
}

/** Call f and throw a SysError when it returns -1 (the libc convention). */
export function check<T extends number | bigint>(name: string, args: readonly unknown[], result: T): T {
  if (result === -1 || result === -1n) throw new SysError(describeCall(name, args), errno());
  return result;
}

// The handful of calls the foundation needs; the executor declares its own.

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** flock(2): a lock the kernel drops when the fd closes or the process dies. */
export function flock(fd: number, operation: number): void {
  check('flock', [fd, operation], fn('int flock(int fd, int operation)')(fd, operation) as number);
}

export function getpid(): number {
  return fn('int getpid()')() as number;
}
