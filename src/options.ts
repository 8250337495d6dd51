// The global options every command receives, as runc names them.

export interface GlobalOptions {
  /** Directory holding one state directory per container (runc: --root). */
  root: string;
  /** File that errors and debug messages are appended to (runc: --log). */
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
  rootless: 'true' | 'false' | 'auto';
}

export const DEFAULT_ROOT = '/run/berth';
