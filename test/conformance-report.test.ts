// The conformance runner's reading of TAP and its verdicts: what decides whether
// `npm run conformance` fails.
import t from 'tap';
import { parseTap } from '../conformance/lib/tap.js';
import { summarize, table, verdict, type RuntimeRun } from '../conformance/lib/report.js';

// As tap 21 prints it when a suite file runs under plain node.
const TAP = `TAP version 14
# Subtest: runtime.md\\#state MUST: state has an id
    ok 1 - should be equal
    1..1
ok 1 - runtime.md\\#state MUST: state has an id # time=12.5ms

# Subtest: config.md\\#hostname MUST: hostname is set
    ok 1 - the container ran and exited 0
    not ok 2 - should be equal
      ---
      diff: |
        --- expected
        +++ actual
        -conformance-host
        +runc
      ...
    1..2
not ok 2 - config.md\\#hostname MUST: hostname is set # time=60.1ms

ok 3 - config-linux.md\\#mount-label MUST: mountLabel # SKIP SELinux is not enabled on this host
# Subtest: config.md\\#domainname MUST: domainname
    not ok 1 - exit 1
    1..1
not ok 4 - config.md\\#domainname MUST: domainname # time=1s

1..4
`;

t.test('each top-level test is one requirement, with # unescaped and its outcome', async (t) => {
  const results = parseTap(TAP);
  t.same(results.map((r) => [r.title, r.outcome]), [
    ['runtime.md#state MUST: state has an id', 'pass'],
    ['config.md#hostname MUST: hostname is set', 'fail'],
    ['config-linux.md#mount-label MUST: mountLabel', 'skip'],
    ['config.md#domainname MUST: domainname', 'fail'],
  ]);
  t.equal(results[2]!.detail, 'SELinux is not enabled on this host', 'the skip reason');
  t.match(results[1]!.detail, /should be equal[\s\S]*-conformance-host[\s\S]*\+runc/, 'a failure keeps its failed assertion and diff');
});

t.test('only failures that are not listed fail the run; listed passes are flagged for pruning', async (t) => {
  const run: RuntimeRun = {
    name: 'runc',
    results: parseTap(TAP),
    broken: [],
    known: {
      'config.md#domainname MUST: domainname': 'runc 1.1.5 ignores domainname',
      'runtime.md#state MUST: state has an id': 'was broken once',
    },
  };
  t.equal(verdict(run, 'config.md#hostname MUST: hostname is set').kind, 'fail');
  t.equal(verdict(run, 'config.md#domainname MUST: domainname').kind, 'known');
  t.equal(verdict(run, 'runtime.md#state MUST: state has an id').kind, 'pass-listed');
  t.equal(verdict(run, 'no such requirement').kind, 'missing');
  const titles = run.results.map((r) => r.title);
  const s = summarize(run, titles);
  t.same([s.pass, s.fail, s.known, s.skip], [1, 1, 1, 1]);
  t.same(s.unexpected.map((u) => u.title), ['config.md#hostname MUST: hostname is set']);
  t.same(s.passListed, ['runtime.md#state MUST: state has an id']);
  const text = table([run]);
  t.match(text, /\| config\.md#hostname MUST: hostname is set\s+\| FAIL\s+\|/);
  t.match(text, /skip: SELinux is not enabled on this host/);
});
