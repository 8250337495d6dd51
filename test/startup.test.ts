// The bundled CLI (scripts/bundle.mjs, run by bin/berth.js) behaves as the compiled modules
// do, loads only the chunks of the command being run, and still gives TypeScript stack
// traces under --debug.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BERTH, type Result } from './helpers/berth.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const COMPILED_CLI = pathToFileURL(join(REPO, 'dist', 'src', 'cli.js')).href;
const RECORDER = pathToFileURL(join(REPO, 'dist', 'test', 'helpers', 'load-recorder.js')).href;

/**
 * `node args` as an engine starts berth. Not straight from here: tap puts its own preload
 * into every child's NODE_OPTIONS (whatever env a spawn passes), and that preload turns
 * source maps on.
 */
function plainNode(args: string[], env: NodeJS.ProcessEnv = {}): Result {
  const r = spawnSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-startup-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The files under the repository that `berth args` loads, and the TypeScript sources they hold. */
function loaded(t: Test, args: string[]): { files: string[]; sources: string[] } {
  const log = join(scratch(t), 'loads');
  const register = `import { register } from 'node:module'; register(${JSON.stringify(RECORDER)});`;
  plainNode(['--import', `data:text/javascript,${encodeURIComponent(register)}`, BERTH, ...args], { BERTH_LOAD_LOG: log });
  const files = [...new Set(readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u)))]
    .filter((f) => f.startsWith(REPO) && !f.includes('/node_modules/'))
    .map((f) => f.slice(REPO.length));
  const sources = files
    .filter((f) => f.startsWith('dist/bundle/'))
    .flatMap((f) => (JSON.parse(readFileSync(join(REPO, f + '.map'), 'utf8')) as { sources: string[] }).sources)
    .filter((s) => !s.includes('node_modules/'))
    .map((s) => s.replace(/^(\.\.\/)+/, '').replace(/^.*?\/(src|bindings)\//, '$1/'));
  return { files, sources };
}

t.test('a command loads only the bundle and its own chunks', async (t) => {
  const { files, sources } = loaded(t, ['--root', scratch(t), 'state', 'no-such-container']);
  t.same(files.filter((f) => !f.startsWith('dist/bundle/') && f !== 'bin/berth.js'), [], 'no compiled module outside the bundle');
  t.ok(sources.includes('src/cli.ts'), 'the CLI came from the bundle');
  t.ok(sources.includes('src/commands/state.ts'), "state's module was loaded");
  const foreign = sources.filter((s) => /^src\/commands\/(?!state|index)/.test(s) || s.startsWith('src/generated/') || s === 'src/runtime/executor.ts');
  t.same(foreign, [], 'no other command, no config validators, no executor');
});

t.test('--version prints the version in package.json', async (t) => {
  const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const r = plainNode([BERTH, '--version']);
  t.equal(r.status, 0);
  t.match(r.stdout, new RegExp(`^berth version ${version.replace(/\./g, '\\.')}\n`));
});

t.test('the bundled CLI prints what the compiled modules print', async (t) => {
  const root = scratch(t);
  const cases = [
    [],
    ['--help'],
    ['state', '--help'],
    ['run', '--help'],
    ['list', '--help'],
    ['frobnicate'],
    ['staet', 'x'],
    ['--log-format', 'xml', 'list'],
    ['--root', root, 'state'],
    ['--root', root, 'state', 'x', '--bogus'],
    ['--root', root, 'state', 'no-such-container'],
    ['validate', '--bundle', join(root, 'no-such-bundle')],
    ['--version'],
  ];
  const compiled = `const { main } = await import(${JSON.stringify(COMPILED_CLI)}); process.exitCode = await main(JSON.parse(process.env.ARGS));`;
  for (const args of cases) {
    const bundled = plainNode([BERTH, ...args]);
    const r = plainNode(['--input-type=module', '-e', compiled], { ARGS: JSON.stringify(args) });
    t.same(
      { status: bundled.status, stdout: bundled.stdout, stderr: bundled.stderr },
      { status: r.status, stdout: r.stdout, stderr: r.stderr },
      `berth ${args.join(' ')}`,
    );
  }
});

t.test('under --debug a stack trace names the TypeScript sources; without it the bundle', async (t) => {
  // A fault no command can provoke on purpose: berth's main() reading the terminal width throws.
  const fault = `Object.defineProperty(process.stdout, 'columns', {
    get() { if (/\\bat main \\(/.test(new Error().stack)) throw new TypeError('no columns'); return undefined; },
  });`;
  const run = (args: string[]) => plainNode(['--import', `data:text/javascript,${encodeURIComponent(fault)}`, BERTH, ...args]);
  const debug = run(['--debug', 'list']);
  t.not(debug.status, 0);
  t.match(debug.stderr, /no columns/);
  t.match(debug.stderr, /src\/cli\.ts:\d+/, 'a frame in src/cli.ts');
  const plain = run(['list']);
  t.not(plain.status, 0);
  t.match(plain.stderr, /dist\/bundle\/berth\.js:\d+/, 'source maps stay unread');
  t.notMatch(plain.stderr, /src\/cli\.ts/);
});
