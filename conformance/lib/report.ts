// The requirement x runtime table that `npm run conformance` prints.
import type { TestResult } from './tap.js';

export type Verdict =
  | { kind: 'pass' }
  | { kind: 'pass-listed'; reason: string } // passes although listed as failing: prune the entry
  | { kind: 'fail'; detail: string } // unexpected: fails the run
  | { kind: 'known'; reason: string } // listed deviation or not implemented yet
  | { kind: 'skip'; reason: string }
  | { kind: 'missing' }; // the runtime's run did not report this requirement

export interface RuntimeRun {
  name: string;
  results: TestResult[];
  /** Files whose test process ended badly (crash, timeout), with why. */
  broken: string[];
  /** title -> reason: failures that do not fail the run. */
  known: Record<string, string>;
}

export function verdict(run: RuntimeRun, title: string): Verdict {
  const result = run.results.find((r) => r.title === title);
  const reason = run.known[title];
  if (!result) return { kind: 'missing' };
  if (result.outcome === 'skip') return { kind: 'skip', reason: result.detail };
  if (result.outcome === 'pass') return reason ? { kind: 'pass-listed', reason } : { kind: 'pass' };
  return reason ? { kind: 'known', reason } : { kind: 'fail', detail: result.detail };
}

function cell(v: Verdict): string {
  switch (v.kind) {
    case 'pass':
      return 'pass';
    case 'pass-listed':
      return 'pass (listed as failing)';
    case 'fail':
      return 'FAIL';
    case 'known':
      return 'fail (known)';
    case 'skip':
      return `skip: ${v.reason}`;
    case 'missing':
      return 'not run';
  }
}

const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - s.length));

/** All requirement titles, in the order the suite ran them. */
export function requirements(runs: RuntimeRun[]): string[] {
  const seen = new Set<string>();
  for (const run of runs) for (const r of run.results) seen.add(r.title);
  return [...seen];
}

export function table(runs: RuntimeRun[]): string {
  const titles = requirements(runs);
  const header = ['requirement', ...runs.map((r) => r.name)];
  const rows = titles.map((title) => [title, ...runs.map((run) => cell(verdict(run, title)))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => pad(c, widths[i]!)).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

export interface Summary {
  pass: number;
  fail: number;
  known: number;
  skip: number;
  missing: number;
  passListed: string[];
  unexpected: { title: string; detail: string }[];
}

export function summarize(run: RuntimeRun, titles: string[]): Summary {
  const s: Summary = { pass: 0, fail: 0, known: 0, skip: 0, missing: 0, passListed: [], unexpected: [] };
  for (const title of titles) {
    const v = verdict(run, title);
    if (v.kind === 'pass') s.pass++;
    else if (v.kind === 'pass-listed') {
      s.pass++;
      s.passListed.push(title);
    } else if (v.kind === 'fail') {
      s.fail++;
      s.unexpected.push({ title, detail: v.detail });
    } else if (v.kind === 'known') s.known++;
    else if (v.kind === 'skip') s.skip++;
    else s.missing++;
  }
  return s;
}
