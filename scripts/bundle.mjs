// Build step (after tsc): bundle the compiled CLI into dist/bundle/, which bin/berth.js runs.
//
// Every engine call pays berth's start-up, and most of it was node's ESM loader resolving,
// reading and compiling some 60 small files (yargs and its helpers, berth's modules): one
// bundle file costs less (bench/STARTUP.md has the numbers). Code splitting keeps each
// command module its own chunk, loaded only when that command runs, so `state` never loads
// the executor or the config validators.
//
// The input is tsc's output, not the TypeScript sources: the bundle then holds exactly the
// code tsc checked and the tests import, esbuild finds the lazily imported
// `./commands/${name}.js` on disk, and it composes tsc's source maps into its own, so
// stack traces under --debug point at the .ts files.
//
// Bundled code must not find files relative to its own module (import.meta.url): after
// bundling that is dist/bundle/, not dist/src/. That is why the version is inlined here.
// For the same reason an import() of a path computed at run time cannot work (esbuild sees
// no module to bundle, and at run time the path resolves against dist/bundle/): the build
// fails on one, naming the file, rather than leaving a command that fails only when run.
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// Chunk names carry content hashes: clear out the previous build's chunks.
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { berth: 'dist/src/cli.js' },
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // A native addon: it cannot be bundled, and node loads it only where a syscall is made.
  external: ['koffi'],
  define: { BERTH_VERSION: JSON.stringify(version) },
  sourcemap: true,
  // Names stay readable in stack traces and profiles; minifying saves little parse time.
  minify: false,
  logLevel: 'warning',
  metafile: true,
});

const problems = [
  ...result.warnings.map((w) => `${w.location?.file ?? ''}: ${w.text}`),
  ...computedImports(Object.keys(result.metafile.inputs)),
];
if (problems.length > 0) {
  console.error(`scripts/bundle.mjs: the bundle would not behave as the compiled modules do:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

/** berth's own modules that call import() with something other than a literal path. */
function computedImports(inputs) {
  // A template literal is fine: esbuild bundles every file its pattern matches.
  const computed = /\bimport\(\s*[^\s'"`)]/;
  const isComment = (line) => /^\s*(\/\/|\/?\*)/.test(line);
  return inputs
    .filter((file) => !file.includes('node_modules/'))
    .filter((file) => readFileSync(join(root, file), 'utf8').split('\n').some((line) => !isComment(line) && computed.test(line)))
    .map((file) => `${file}: import() of a path computed at run time; import a literal path (esbuild then makes it a lazily loaded chunk)`);
}
