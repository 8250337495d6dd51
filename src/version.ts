// `berth --version`, shaped like runc's so that tools parsing it find the same lines.
import { readFileSync } from 'node:fs';

export const SPEC_VERSION = '1.3.0';

export function berthVersion(): string {
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
