// `npm run bench`: berth against runc (and crun where the host allows it), in one run,
// alternating runtimes inside every iteration so that drift in the machine's load hits
// them alike. Prints medians and min/max over N runs (BENCH_N, default 20), the
// berth/runc ratios, and writes JSON and an SVG chart under bench/results/.
//
// Not part of the tests. Where berth cannot do an operation yet its row says why
// ("n/a (...)") instead of failing the bench.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, makeBundle, resolveRuntime, runtime, stateRootDir, uniqueId, which, type Bundle, type Result, type Runtime } from '../conformance/lib/bundle.js';
import { stats, type Stats } from './lib/stats.js';
import { barChart, stack, type Series } from './lib/svg.js';

const N = Number(process.env['BENCH_N'] ?? 20);
const PARALLEL = 50;
const LIST_SIZE = 100;
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));

interface Metric {
  key: string;
  label: string;
  unit: 'ms' | 'MiB';
}

const METRICS: Metric[] = [
  { key: 'run', label: 'run /bin/true', unit: 'ms' },
  { key: 'create', label: 'create', unit: 'ms' },
  { key: 'start', label: 'start', unit: 'ms' },
  { key: 'delete', label: 'delete', unit: 'ms' },
  { key: 'state', label: 'state', unit: 'ms' },
  { key: 'list100', label: `list (${LIST_SIZE} containers)`, unit: 'ms' },
  { key: 'exec', label: 'exec /bin/true', unit: 'ms' },
  { key: 'parallel50', label: `${PARALLEL} runs in parallel`, unit: 'ms' },
  { key: 'rss', label: 'peak RSS of run', unit: 'MiB' },
];

/** One runtime's results: metric -> samples, or why it has none. */
interface Subject {
  rt: Runtime;
  samples: Record<string, number[]>;
  unavailable: Record<string, string>;
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Why an operation has no number: berth's gaps are expected for now, anyone else's are failures. */
function why(s: Subject, r: { status: number | null; stderr: string }): string {
  const first = r.stderr.trim().split('\n').find(Boolean) ?? `exit ${r.status}`;
  const message = first.replace(/^time="[^"]*" level=\w+ msg=/, '').slice(0, 120);
  return s.rt.name === 'berth' ? `not implemented yet: ${message}` : `failed: ${message}`;
}

/** Runs `op` for a subject unless it already failed there; records the sample or why not. */
function measure(s: Subject, key: string, op: () => number | string): void {
  if (s.unavailable[key]) return;
  const value = op();
  if (typeof value === 'string') s.unavailable[key] = value;
  else (s.samples[key] ??= []).push(value);
}

function timed(s: Subject, args: string[]): number | string {
  const start = process.hrtime.bigint();
  const r = runtime(args, { runtime: s.rt, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = ms(start);
  return r.status === 0 ? elapsed : why(s, r);
}

function waitStopped(s: Subject, id: string): void {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const r = runtime(['state', id], { runtime: s.rt });
    if (r.status !== 0 || JSON.parse(r.stdout).status === 'stopped') return;
  }
}

/** The bundles: /bin/true for run/create/start/delete; a long sleep for state and exec. */
function oneIteration(s: Subject, trueBundle: Bundle, sleepBundle: Bundle, timeAvailable: boolean): void {
  const id = uniqueId('bench');
  measure(s, 'run', () => {
    const r = timed(s, ['run', '--bundle', trueBundle.dir, id]);
    runtime(['delete', '--force', id], { runtime: s.rt });
    return r;
  });

  const cid = uniqueId('bench');
  const b = { ...trueBundle, id: cid };
  measure(s, 'create', () => {
    const start = process.hrtime.bigint();
    const r = create(b, [], { runtime: s.rt });
    return r.status === 0 ? ms(start) : why(s, r);
  });
  if (!s.unavailable['create']) {
    measure(s, 'start', () => timed(s, ['start', cid]));
    waitStopped(s, cid);
    measure(s, 'delete', () => timed(s, ['delete', cid]));
  } else {
    s.unavailable['start'] ??= 'needs create';
    s.unavailable['delete'] ??= 'needs create';
  }
  runtime(['delete', '--force', cid], { runtime: s.rt });

  measure(s, 'state', () => timed(s, ['state', sleepBundle.id]));
  measure(s, 'exec', () => timed(s, ['exec', sleepBundle.id, '/bin/true']));

  measure(s, 'rss', () => {
    if (!timeAvailable) return '/usr/bin/time is not installed (apt package time)';
    const out = join(trueBundle.dir, 'rss');
    const rid = uniqueId('bench');
    const [file, ...pre] = s.rt.argv;
    const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, file!, ...pre, '--root', stateRootDir(), 'run', '--bundle', trueBundle.dir, rid], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    runtime(['delete', '--force', rid], { runtime: s.rt });
    if (r.status !== 0) return why(s, { status: r.status, stderr: String(r.stderr) });
    return Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024;
  });
}

/** 50 `run`s at once; the time until the last one ends. */
async function parallelRuns(s: Subject, bundle: Bundle): Promise<number | string> {
  const ids = Array.from({ length: PARALLEL }, () => uniqueId('bench'));
  const [file, ...pre] = s.rt.argv;
  const start = process.hrtime.bigint();
  const codes = await Promise.all(
    ids.map(
      (id) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(file!, [...pre, '--root', stateRootDir(), 'run', '--bundle', bundle.dir, id], { stdio: 'ignore' });
          child.on('close', (code) => resolve(code));
        }),
    ),
  );
  const elapsed = ms(start);
  for (const id of ids) runtime(['delete', '--force', id], { runtime: s.rt });
  const failed = codes.filter((c) => c !== 0).length;
  return failed ? `${failed} of ${PARALLEL} runs failed` : elapsed;
}

/** `list` with 100 created containers, timed `n` times. */
function listWithMany(s: Subject, bundle: Bundle, n: number): void {
  const ids: string[] = [];
  try {
    for (let i = 0; i < LIST_SIZE; i++) {
      const id = uniqueId('bench');
      const r = create({ ...bundle, id }, [], { runtime: s.rt });
      if (r.status !== 0) {
        s.unavailable['list100'] = `needs create; ${why(s, r)}`;
        return;
      }
      ids.push(id);
    }
    for (let i = 0; i < n; i++) measure(s, 'list100', () => timed(s, ['list']));
  } finally {
    for (const id of ids) runtime(['delete', '--force', id], { runtime: s.rt });
  }
}

/** Runtimes to compare: berth and runc always; crun unless the host rules it out. */
function subjects(): { subjects: Subject[]; skipped: Record<string, string> } {
  const skipped: Record<string, string> = {};
  const list = [resolveRuntime('berth')];
  if (which('runc')) list.push(resolveRuntime('runc'));
  else skipped['runc'] = 'not installed';
  const hybrid = existsSync('/sys/fs/cgroup/unified') && !existsSync('/sys/fs/cgroup/cgroup.controllers');
  if (!which('crun')) skipped['crun'] = 'not installed (apt package crun)';
  else if (hybrid) skipped['crun'] = 'crun refuses hybrid cgroup hosts ("cgroups in hybrid mode not supported"), and this host is hybrid';
  else list.push(resolveRuntime('crun'));
  return { subjects: list.map((rt) => ({ rt, samples: {}, unavailable: {} })), skipped };
}

function nodeFloor(n: number): Stats {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    samples.push(ms(start));
  }
  return stats(samples);
}

const fmt = (st: Stats | undefined, unit: string) => (st ? `${st.median.toFixed(1)} ${unit} (${st.min.toFixed(1)}-${st.max.toFixed(1)})` : '');

function printTable(all: Subject[], results: Record<string, Record<string, Stats | string>>, floor: Stats, skipped: Record<string, string>): string {
  const names = all.map((s) => s.rt.name);
  const header = ['metric', ...names, ...(names.includes('runc') ? ['berth/runc'] : [])];
  const rows = METRICS.map((m) => {
    const cells = names.map((n) => {
      const v = results[n]![m.key];
      return typeof v === 'string' || v === undefined ? `n/a (${v ?? 'not measured'})` : fmt(v, m.unit);
    });
    const b = results['berth']?.[m.key];
    const r = results['runc']?.[m.key];
    const ratio = typeof b === 'object' && typeof r === 'object' ? `${(b.median / r.median).toFixed(2)}x` : 'n/a';
    return [m.label, ...cells, ...(names.includes('runc') ? [ratio] : [])];
  });
  rows.push(['node -e 0 (floor)', fmt(floor, 'ms'), ...names.slice(1).map(() => ''), ...(names.includes('runc') ? [''] : [])]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  const lines = [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)];
  for (const [name, why] of Object.entries(skipped)) lines.push(`${name}: skipped: ${why}`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const { subjects: all, skipped } = subjects();
  const trueBundle = makeBundle({ rootfs: 'shared', args: ['/bin/true'] });
  const sleepBundles = all.map(() => makeBundle({ rootfs: 'shared', args: ['sleep', '3600'] }));
  const timeAvailable = existsSync('/usr/bin/time');
  try {
    all.forEach((s, i) => {
      const r = create(sleepBundles[i]!, [], { runtime: s.rt });
      if (r.status === 0) runtime(['start', sleepBundles[i]!.id], { runtime: s.rt });
    });
    process.stdout.write(`bench: ${all.map((s) => s.rt.name).join(', ')}; N=${N}\n`);
    for (let i = 0; i < N; i++) {
      // Alternate which runtime goes first, so neither always runs on a warmer cache.
      const order = i % 2 ? [...all].reverse() : all;
      for (const s of order) oneIteration(s, trueBundle, sleepBundles[all.indexOf(s)]!, timeAvailable);
      process.stdout.write(`  iteration ${i + 1}/${N}\r`);
    }
    process.stdout.write('\n');
    all.forEach((s, i) => {
      const sleeping = sleepBundles[i]!.id;
      if (s.samples['state'] === undefined) s.unavailable['exec'] ??= 'needs a running container';
      runtime(['delete', '--force', sleeping], { runtime: s.rt });
    });
    for (const s of all) if (s.unavailable['run']) s.unavailable['parallel50'] = `needs run; ${s.unavailable['run']}`;
    const heavyN = Math.max(1, Math.min(5, Math.ceil(N / 4)));
    for (let i = 0; i < heavyN; i++) {
      for (const s of i % 2 ? [...all].reverse() : all) {
        if (!s.unavailable['parallel50']) {
          const v = await parallelRuns(s, trueBundle);
          if (typeof v === 'string') s.unavailable['parallel50'] = s.unavailable['run'] ?? v;
          else (s.samples['parallel50'] ??= []).push(v);
        }
      }
    }
    for (const s of all) listWithMany(s, trueBundle, N);
  } finally {
    trueBundle.cleanup();
    sleepBundles.forEach((b, i) => {
      runtime(['delete', '--force', b.id], { runtime: all[i]!.rt });
      rmSync(b.dir, { recursive: true, force: true });
    });
  }
  const floor = nodeFloor(N);

  const results: Record<string, Record<string, Stats | string>> = {};
  for (const s of all) {
    results[s.rt.name] = {};
    for (const m of METRICS) results[s.rt.name]![m.key] = s.samples[m.key]?.length ? stats(s.samples[m.key]!) : (s.unavailable[m.key] ?? 'not measured');
  }
  const text = printTable(all, results, floor, skipped);
  process.stdout.write('\n' + text);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = { date: new Date().toISOString(), n: N, host: hostFacts(), floor: { 'node -e 0': floor }, skipped, results };
  const series: Series[] = all.map((s) => ({
    name: s.rt.name,
    values: Object.fromEntries(METRICS.map((m) => [m.key, typeof results[s.rt.name]![m.key] === 'object' ? (results[s.rt.name]![m.key] as Stats) : undefined])),
  }));
  series.push({ name: 'node -e 0', values: { run: floor } });
  const svg = stack([
    barChart(`berth vs runc: latency, N=${N} (${json.date.slice(0, 10)})`, METRICS.filter((m) => m.unit === 'ms' && m.key !== 'parallel50' && m.key !== 'list100'), series, 'ms'),
    barChart('bulk operations', METRICS.filter((m) => m.key === 'parallel50' || m.key === 'list100'), series, 'ms'),
    barChart('peak RSS of the runtime process', METRICS.filter((m) => m.unit === 'MiB'), series, 'MiB'),
  ]);
  mkdirSync(RESULTS, { recursive: true });
  for (const name of [`${stamp}`, 'latest']) {
    writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify(json, null, 2) + '\n');
    writeFileSync(join(RESULTS, `${name}.svg`), svg);
  }
  writeFileSync(join(RESULTS, 'latest.txt'), text);
  process.stdout.write(`\nwritten: bench/results/${stamp}.json, .svg, latest.json, latest.svg, latest.txt\n`);
}

function hostFacts(): Record<string, string> {
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const versions: Record<string, string> = { kernel, node: process.version };
  for (const name of ['runc', 'crun']) {
    if (which(name)) versions[name] = spawnSync(name, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
  }
  return versions;
}

await main();
