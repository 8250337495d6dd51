// `npm run conformance`: runs the suite against each runtime in RUNTIMES (default:
// berth, plus runc when it is installed), prints a requirement x runtime table, and
// exits non-zero when a runtime fails a requirement that is not listed for it
// (expected-failures.ts for berth, deviations.ts for reference runtimes).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BERTH_EXPECTED_FAILURES } from './expected-failures.js';
import { DEVIATIONS } from './deviations.js';
import { resolveRuntime, which } from './lib/runtime.js';
import { parseTap } from './lib/tap.js';
import { requirements, summarize, table, type RuntimeRun } from './lib/report.js';

/** The suite, one file per runtime-spec document. */
const FILES = ['runtime', 'config', 'config-linux'];
const FILE_TIMEOUT_MS = 10 * 60_000;

function runtimesWanted(): string[] {
  const list = process.env['RUNTIMES'] ?? process.env['RUNTIME'] ?? (which('runc') ? 'berth,runc' : 'berth');
  return list.split(',').map((s) => s.trim()).filter(Boolean);
}

interface FileRun {
  output: string;
  /** Why the file's process did not end normally, if it did not. */
  broken?: string;
}

function runFile(file: string, runtime: string): Promise<FileRun> {
  const path = fileURLToPath(new URL(`./${file}.test.js`, import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path], { env: { ...process.env, RUNTIME: runtime, TAP_TIMEOUT: String(FILE_TIMEOUT_MS / 1000) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (errors += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ended = /^1\.\.\d+$/m.test(output);
      const broken = signal ? `killed by ${signal}` : !ended ? `ended early (exit ${code}): ${errors.trim().slice(-500)}` : undefined;
      resolve({ output, broken });
    });
  });
}

async function runRuntime(spec: string): Promise<RuntimeRun> {
  const name = resolveRuntime(spec).name;
  const known = name === 'berth' ? BERTH_EXPECTED_FAILURES : (DEVIATIONS[name] ?? {});
  const run: RuntimeRun = { name, results: [], broken: [], known };
  for (const file of FILES) {
    const started = Date.now();
    const { output, broken } = await runFile(file, spec);
    const results = parseTap(output);
    run.results.push(...results);
    if (broken) run.broken.push(`${file}.test: ${broken}`);
    const count = (o: string) => results.filter((r) => r.outcome === o).length;
    process.stdout.write(`${name}: ${file}.test: ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  return run;
}

/** Why each listed failure fails: one line per reason, naming the requirements. */
function knownReasons(run: RuntimeRun, titles: string[]): string[] {
  const byReason = new Map<string, string[]>();
  for (const [title, why] of Object.entries(run.known)) {
    if (titles.includes(title)) byReason.set(why, [...(byReason.get(why) ?? []), title]);
  }
  return [...byReason].map(([why, listed]) =>
    listed.length > 3 ? `  ${run.name}: ${why} (${listed.length} requirements)` : `  ${run.name}: ${why}\n${listed.map((l) => `      ${l}`).join('\n')}`,
  );
}

function report(runs: RuntimeRun[]): { text: string; ok: boolean } {
  const titles = requirements(runs);
  const out: string[] = ['', table(runs), ''];
  let ok = true;
  for (const run of runs) {
    const s = summarize(run, titles);
    out.push(`${run.name}: ${s.pass} passed, ${s.fail} failed unexpectedly, ${s.known} failed as listed, ${s.skip} skipped${s.missing ? `, ${s.missing} not run` : ''}`);
    for (const { title, detail } of s.unexpected) {
      out.push(`  UNEXPECTED FAILURE: ${title}`);
      if (detail) out.push(detail.split('\n').map((l) => '      ' + l).join('\n'));
    }
    for (const title of s.passListed) out.push(`  passes, remove it from the list: ${title}`);
    for (const b of run.broken) out.push(`  BROKEN: ${b}`);
    const stale = Object.keys(run.known).filter((title) => !titles.includes(title));
    for (const title of stale) out.push(`  listed but no such requirement in the suite: ${title}`);
    if (s.fail > 0 || run.broken.length > 0 || s.missing > 0) ok = false;
  }
  const reasons = runs.flatMap((run) => knownReasons(run, titles));
  if (reasons.length) out.push('', 'Known failures and why:', ...reasons);
  return { text: out.join('\n') + '\n', ok };
}

const specs = runtimesWanted();
// Runtimes run side by side (separate --root dirs and ids), each file after the other.
const runs = await Promise.all(specs.map(runRuntime));
const { text, ok } = report(runs);
process.stdout.write(text);
if (process.env['CONFORMANCE_REPORT']) writeFileSync(process.env['CONFORMANCE_REPORT'], text);
process.exitCode = ok ? 0 : 1;
