// features.md: what the runtime says it supports, as JSON, without any container.
import t from 'tap';
import { describeResult, runtime } from './lib/bundle.js';

const HOOKS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];
const NAMESPACES = ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts', 'time'];

function features(t: { fail(message: string): void }): Record<string, any> | undefined {
  const r = runtime(['features']);
  if (r.status !== 0) return void t.fail(describeResult(r));
  try {
    return JSON.parse(r.stdout);
  } catch {
    return void t.fail(`features did not print JSON: ${r.stdout.slice(0, 200)}`);
  }
}

t.test('features.md MUST: features prints JSON with ociVersionMin and ociVersionMax', async (t) => {
  const f = features(t);
  if (!f) return;
  t.match(f['ociVersionMin'], /^\d+\.\d+\.\d+/, 'ociVersionMin is a version');
  t.match(f['ociVersionMax'], /^\d+\.\d+\.\d+/, 'ociVersionMax is a version');
});

t.test('features.md MUST: hooks, mountOptions and linux.namespaces use the names of the spec', async (t) => {
  const f = features(t);
  if (!f) return;
  for (const hook of f['hooks'] ?? []) t.ok(HOOKS.includes(hook), `hook ${hook}`);
  t.ok((f['mountOptions'] ?? []).every((o: unknown) => typeof o === 'string'), 'mountOptions are strings');
  for (const ns of f['linux']?.['namespaces'] ?? []) t.ok(NAMESPACES.includes(ns), `namespace ${ns}`);
});
