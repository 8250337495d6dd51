// `berth --version`, shaped like runc's so that tools parsing it find the same lines.
import { readFileSync } from 'node:fs';

export const SPEC_VERSION = '1.3.0';

// Inlined by scripts/bundle.mjs, where package.json is not at ../../ of the module; the
// unbundled modules (as tests import them) read it.
declare const BERTH_VERSION: string | undefined;

export function berthVersion(): string {
  if (typeof BERTH_VERSION === 'string') return BERTH_VERSION;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function versionText(): Promise<string> {
  const lines = [`berth version ${berthVersion()}`, `spec: ${SPEC_VERSION}`];
  const { libseccompVersion } = await import('../bindings/seccomp.js');
  const seccomp = libseccompVersion();
  if (seccomp) lines.push(`libseccomp: ${seccomp}`);
  return lines.join('\n') + '\n';
}
