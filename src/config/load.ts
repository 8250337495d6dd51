// Reading a bundle's config.json: found, parsed and validated, or a BerthError that
// lists every problem, one per line. Warnings are logged and do not stop the caller.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../errors.js';
import { log } from '../log.js';
import { parseJson } from './json.js';
import { formatProblems } from './problem.js';
import type { Config } from './types.js';
import { errorsOf, validateConfig, type ValidateOptions } from './validate.js';

/** config.json's text, or a BerthError that names the path and why it cannot be read. */
export function readConfigText(bundleDir: string): { path: string; text: string } {
  const path = join(bundleDir, 'config.json');
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(error));
    throw new BerthError(`cannot read ${path}: ${why}`, { cause: error });
  }
}

/** The bundle's config, valid for creating a container (`forCreate` defaults to true). */
export function loadConfig(bundleDir: string, options: ValidateOptions = {}): Config {
  const { path, text } = readConfigText(bundleDir);
  const document = parseJson(text, path);
  const problems = validateConfig(document, { forCreate: true, ...options });
  const errors = errorsOf(problems);
  // Warnings travel with the errors: whoever fixes the config sees them all at once.
  if (errors.length > 0) throw new BerthError(`${path} is not valid:\n${formatProblems(problems)}`);
  for (const warning of problems.filter((p) => p.warning)) log.warn(formatProblems([{ ...warning, warning: false }]));
  return document as Config;
}
