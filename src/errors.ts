// Errors that reach the user. Anything thrown as a BerthError is printed as its
// message alone (no stack trace) and ends the command with its exit code; any other
// exception is a bug and is printed with its stack under --debug.

export class BerthError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BerthError';
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A command that a later milestone implements: a clear message and a non-zero status. */
export function notImplemented(command: string): never {
  throw new BerthError(`${command}: not implemented yet`, { exitCode: 2 });
}
