// Logging in runc's shapes, because engines parse it: with --log-format json each
// entry is one line {"level":..,"msg":..,"time":..}; with text it is
// time="..." level=... msg="...". Entries go to --log when given (engines read that
// file to report why a runtime failed); errors always go to stderr as well.
import { appendFileSync } from 'node:fs';

export type Level = 'debug' | 'info' | 'warning' | 'error';

interface LogSettings {
  file?: string;
  format: 'text' | 'json';
  debug: boolean;
}

let settings: LogSettings = { format: 'text', debug: false };

export function configureLog(next: LogSettings): void {
  settings = next;
}

export function formatEntry(level: Level, msg: string, format: 'text' | 'json', time = new Date()): string {
  const stamp = time.toISOString();
  if (format === 'json') return JSON.stringify({ level, msg, time: stamp }) + '\n';
  return `time=${JSON.stringify(stamp)} level=${level} msg=${JSON.stringify(msg)}\n`;
}

function write(level: Level, msg: string): void {
  if (!settings.file) return;
  try {
    appendFileSync(settings.file, formatEntry(level, msg, settings.format));
  } catch {
    // A log file we cannot write must not turn a success into a failure.
  }
}

export const log = {
  debug(msg: string): void {
    if (!settings.debug) return;
    write('debug', msg);
    if (!settings.file) process.stderr.write(formatEntry('debug', msg, settings.format));
  },
  info(msg: string): void {
    write('info', msg);
  },
  warn(msg: string): void {
    write('warning', msg);
    process.stderr.write(`berth: warning: ${msg}\n`);
  },
  /** The error that ends a command: to stderr in plain words, to --log in its format. */
  error(msg: string): void {
    write('error', msg);
    process.stderr.write(`berth: ${msg}\n`);
  },
};
