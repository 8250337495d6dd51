// Start-up cost of one or more builds of berth's CLI, side by side:
//
//   node dist/bench/startup-compare.js before=/tmp/a/bin/berth.js after=bin/berth.js
//
// For every build: `--version`, `--help`, `state` of a stopped container, `list` with
// 100 stopped containers, `state` of a missing container (the error path), `run` of
// /bin/true, and the peak RSS of that run; and `node -e 0` as the floor. The builds are
// interleaved inside every iteration, so drift in the machine's load hits them alike.
// Reports wall time (median, min) and mean CPU time (user + sys) of the child, which
// barely moves with load. The first build creates the containers (in a private --root
// that is removed afterwards); rows a build cannot do yet say so.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBundle, uniqueId } from '../conformance/lib/bundle.js';
import { stats } from './lib/stats.js';

const N = Number(process.env['BENCH_N'] ?? 30);
const LIST_SIZE = 100;
const SCRATCH = mkdtempSync(join(tmpdir(), 'berth-startup-'));
const ERR_FILE = join(SCRATCH, 'stderr');

interface Build {
  label: string;
  bin: string;
}

interface Row {
  label: string;
  /** node's arguments for one build; null when the row is the same for all builds. */
  argv: (b: Build) => string[];
  /** Undo what one run left behind (a container), outside the timing. */
  after?: (b: Build) => void;
}

interface Samples {
  wall: number[];
  cpuMs: number;
  failed?: string;
}

/** CPU time (user + sys, ms) used so far by this process's reaped children. */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // cutime and cstime are fields 16 and 17 of stat, in clock ticks (100 per second).
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/**
 * Runs `node argv`; its stderr goes through a file, not a pipe, because a container
 * process that `create` leaves behind keeps the runtime's stdio open.
 */
function node(argv: string[]): { status: number | null; stderr: string } {
  const err = openSync(ERR_FILE, 'w');
  try {
    const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', err], timeout: 60_000 });
    return { status: r.status, stderr: readFileSync(ERR_FILE, 'utf8') };
  } finally {
    closeSync(err);
  }
}

function parseBuilds(args: string[]): Build[] {
  if (args.length === 0) throw new Error('usage: startup-compare.js label=/path/to/bin/berth.js ...');
  return args.map((a) => {
    const eq = a.indexOf('=');
    return eq > 0 ? { label: a.slice(0, eq), bin: a.slice(eq + 1) } : { label: a, bin: a };
  });
}

/** 100 containers that ran /bin/true to the end, under a fresh root; null if `b` cannot. */
function prepareRoot(b: Build, bundleDir: string): { root: string; ids: string[] } | null {
  const root = mkdtempSync(join(tmpdir(), 'berth-startup-root-'));
  const ids: string[] = [];
  for (let i = 0; i < LIST_SIZE; i++) {
    const id = uniqueId('startup');
    const created = node([b.bin, '--root', root, 'create', '--bundle', bundleDir, id]);
    if (created.status !== 0) {
      process.stderr.write(`${b.label} cannot create containers (${created.stderr.trim()}): no state/list rows\n`);
      rmSync(root, { recursive: true, force: true });
      return null;
    }
    ids.push(id);
    node([b.bin, '--root', root, 'start', id]);
  }
  return { root, ids };
}

function main(): void {
  const builds = parseBuilds(process.argv.slice(2));
  const bundle = makeBundle({ args: ['/bin/true'] });
  const prepared = prepareRoot(builds[0]!, bundle.dir);
  try {
    const rows: Row[] = [
      { label: 'node -e 0', argv: () => ['-e', '0'] },
      { label: 'berth --version', argv: (b) => [b.bin, '--version'] },
      { label: 'berth --help', argv: (b) => [b.bin, '--help'] },
      { label: 'berth state (missing container: error)', argv: (b) => [b.bin, '--root', tmpdir(), 'state', 'no-such-container'] },
    ];
    if (prepared) {
      rows.push(
        { label: 'berth state (stopped container)', argv: (b) => [b.bin, '--root', prepared.root, 'state', prepared.ids[0]!] },
        { label: `berth list (${LIST_SIZE} stopped containers)`, argv: (b) => [b.bin, '--root', prepared.root, 'list'] },
      );
    }
    const runId = new Map<Build, string>();
    rows.push({
      label: 'berth run /bin/true',
      argv: (b) => {
        runId.set(b, uniqueId('startup'));
        return [b.bin, '--root', prepared?.root ?? tmpdir(), 'run', '--bundle', bundle.dir, runId.get(b)!];
      },
      after: (b) => void node([b.bin, '--root', prepared?.root ?? tmpdir(), 'delete', '--force', runId.get(b)!]),
    });

    const results = new Map<string, Samples>();
    const key = (row: Row, b: Build) => `${row.label}\0${b.label}`;
    for (let i = 0; i < N; i++) {
      for (const row of rows) {
        // node -e 0 is the same for every build: measure it once per iteration.
        const targets = row.label === 'node -e 0' ? builds.slice(0, 1) : i % 2 ? [...builds].reverse() : builds;
        for (const b of targets) {
          const s = results.get(key(row, b)) ?? { wall: [], cpuMs: 0 };
          results.set(key(row, b), s);
          if (s.failed) continue;
          const cpuBefore = childrenCpuMs();
          const start = process.hrtime.bigint();
          const r = node(row.argv(b));
          const wall = Number(process.hrtime.bigint() - start) / 1e6;
          const expectFailure = row.label.includes('missing');
          if ((r.status === 0) === expectFailure) s.failed = r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`;
          s.wall.push(wall);
          s.cpuMs += childrenCpuMs() - cpuBefore;
          row.after?.(b);
        }
      }
    }

    const lines = [
      `N=${N}, node ${process.version}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
      '',
      '| command | build | wall median ms | wall min ms | CPU ms (mean) |',
      '| --- | --- | --- | --- | --- |',
    ];
    for (const row of rows) {
      for (const b of row.label === 'node -e 0' ? builds.slice(0, 1) : builds) {
        const s = results.get(key(row, b))!;
        const who = row.label === 'node -e 0' ? '' : b.label;
        if (s.failed) {
          lines.push(`| ${row.label} | ${who} | n/a (${s.failed.slice(0, 80)}) | | |`);
          continue;
        }
        const st = stats(s.wall);
        lines.push(`| ${row.label} | ${who} | ${st.median.toFixed(1)} | ${st.min.toFixed(1)} | ${(s.cpuMs / s.wall.length).toFixed(1)} |`);
      }
    }
    lines.push('', '| peak RSS of run /bin/true | MiB |', '| --- | --- |');
    for (const b of builds) lines.push(`| ${b.label} | ${peakRssMiB(b, bundle.dir, prepared?.root ?? tmpdir())} |`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    if (prepared) {
      for (const id of prepared.ids) node([builds[0]!.bin, '--root', prepared.root, 'delete', '--force', id]);
      rmSync(prepared.root, { recursive: true, force: true });
    }
    rmSync(bundle.dir, { recursive: true, force: true });
    rmSync(SCRATCH, { recursive: true, force: true });
  }
}

/** Peak RSS of `run /bin/true`, from /usr/bin/time; the largest of 5 runs. */
function peakRssMiB(b: Build, bundleDir: string, root: string): string {
  const out = join(bundleDir, 'rss');
  let peak = 0;
  for (let i = 0; i < 5; i++) {
    const id = uniqueId('startup');
    const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, process.execPath, b.bin, '--root', root, 'run', '--bundle', bundleDir, id], { stdio: 'ignore' });
    node([b.bin, '--root', root, 'delete', '--force', id]);
    if (r.status !== 0) return 'n/a (run failed)';
    peak = Math.max(peak, Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024);
  }
  return peak.toFixed(1);
}

main();
