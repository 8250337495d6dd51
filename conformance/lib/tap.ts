// Reading a suite file's TAP output: one result per top-level test (one requirement).

export type Outcome = 'pass' | 'fail' | 'skip';

export interface TestResult {
  title: string;
  outcome: Outcome;
  /** Why it was skipped, or the failed assertions (first lines), for the report. */
  detail: string;
}

const RESULT = /^(not )?ok \d+ - (.*?)(?: # (SKIP|TODO)\b ?(.*)| # time=[\d.]+m?s)?$/;

/** TAP escapes '#' (and '\') in test names. */
const unescape = (name: string) => name.replace(/\\([#\\])/g, '$1');

/** What failed inside a subtest: its failed assertions and the lines that explain them. */
function failureDetail(block: string[]): string {
  const lines: string[] = [];
  for (const line of block) {
    const m = /^\s+not ok \d+ - (.*)$/.exec(line);
    if (m) lines.push(unescape(m[1]!));
    const diff = /^\s+[-+](?![-+])(.*)$/.exec(line);
    if (diff && lines.length && lines.length < 12) lines.push('  ' + line.trim());
  }
  return lines.join('\n');
}

export function parseTap(output: string): TestResult[] {
  const results: TestResult[] = [];
  let block: string[] = [];
  for (const line of output.split('\n')) {
    const m = RESULT.exec(line);
    if (!m) {
      block.push(line);
      continue;
    }
    const [, not, name, directive, reason] = m;
    const title = unescape(name!);
    if (directive === 'SKIP' || directive === 'TODO') results.push({ title, outcome: 'skip', detail: reason ?? '' });
    else if (not) results.push({ title, outcome: 'fail', detail: failureDetail(block) });
    else results.push({ title, outcome: 'pass', detail: '' });
    block = [];
  }
  return results;
}
