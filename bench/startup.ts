// Where berth's CLI start-up time goes: `node bench/startup.js` (after a build) times,
// each in fresh node processes, the bare node floor, whole berth commands, and the
// import of each heavy module alone; then profiles `berth --version` with --cpu-prof
// and sums self time per module. Findings and suggestions: bench/STARTUP.md.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from '../conformance/lib/runtime.js';
import { stats } from './lib/stats.js';

const N = Number(process.env['BENCH_N'] ?? 20);
const BERTH = join(REPO, 'bin', 'berth.js');

/** CPU time (user + sys, ms) used so far by this process's reaped children. */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // cutime and cstime are fields 16 and 17 of stat, in clock ticks (100 per second).
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/**
 * Wall time (median, min) and mean CPU time of `node argv`, over N runs. CPU time is
 * the steadier number on a busy machine: wall time there includes waiting for a core.
 */
function cost(argv: string[]): string {
  const samples: number[] = [];
  const cpuBefore = childrenCpuMs();
  for (let i = 0; i < N; i++) {
    const start = process.hrtime.bigint();
    spawnSync(process.execPath, argv, { stdio: 'ignore', cwd: REPO });
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const cpu = (childrenCpuMs() - cpuBefore) / N;
  const s = stats(samples);
  return `${s.median.toFixed(1)} | ${s.min.toFixed(1)} | ${cpu.toFixed(1)}`;
}

/** The cost of `node -e 'await import(specifier)'`: compare with `node -e 0`. */
function importCost(specifier: string): string {
  return cost(['--input-type=module', '-e', `await import(${JSON.stringify(specifier)})`]);
}

/** Self time per module (node_modules package, berth file, or node internals) of one run. */
function profile(args: string[]): [string, number][] {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cpuprof-'));
  try {
    spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', dir, BERTH, ...args], { stdio: 'ignore' });
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      nodes: { id: number; callFrame: { url: string; functionName: string } }[];
      samples: number[];
      timeDeltas: number[];
    };
    const urlOf = new Map(prof.nodes.map((n) => [n.id, n.callFrame.url || `(${n.callFrame.functionName || 'native'})`]));
    const bucket = (url: string) => {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
      if (pkg) return `package ${pkg[1]}`;
      if (url.startsWith('file://')) return url.replace(pathToFileURL(REPO).href, '');
      if (url.startsWith('node:')) return 'node internals';
      return url;
    };
    const self = new Map<string, number>();
    prof.samples.forEach((id, i) => {
      const key = bucket(urlOf.get(id) ?? '?');
      self.set(key, (self.get(key) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000);
    });
    return [...self].sort((a, b) => b[1] - a[1]).slice(0, 12);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HEAD = ['| wall median ms | wall min ms | CPU ms (mean) |', '| --- | --- | --- | --- |'];
const lines: string[] = [`N=${N}, node ${process.version}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`, ''];
lines.push('| command ' + HEAD[0], HEAD[1]!);
lines.push(`| node -e 0 | ${cost(['-e', '0'])} |`);
lines.push(`| berth --version | ${cost([BERTH, '--version'])} |`);
lines.push(`| berth --help | ${cost([BERTH, '--help'])} |`);
lines.push(`| berth state x (yargs + one command module) | ${cost([BERTH, 'state', 'x'])} |`);
const imports: [string, string][] = [
  ['yargs', 'yargs'],
  ['the CLI module (dist/src/cli.js: yargs + options + log)', './dist/src/cli.js'],
  ['ajv standalone validators (dist/src/generated/validators.js)', './dist/src/generated/validators.js'],
  ['koffi', 'koffi'],
  ['libc bindings (dist/bindings/libc.js: koffi + dlopen libc)', './dist/bindings/libc.js'],
  ['libseccomp binding (dist/bindings/seccomp.js)', './dist/bindings/seccomp.js'],
];
lines.push('', '| node -e "await import(X)" ' + HEAD[0], HEAD[1]!);
lines.push(`| (nothing: node --input-type=module -e '') | ${cost(['--input-type=module', '-e', ''])} |`);
for (const [label, spec] of imports) lines.push(`| ${label} | ${importCost(spec)} |`);
lines.push('', 'CPU profile of `berth --version` (self time by module, 0.1 ms sampling):', '', '| module | self ms |', '| --- | --- |');
for (const [key, msSelf] of profile(['--version'])) lines.push(`| ${key} | ${msSelf.toFixed(1)} |`);
process.stdout.write(lines.join('\n') + '\n');
