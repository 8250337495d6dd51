import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth } from './helpers/berth.js';

t.test('--version names berth, the runtime-spec version and libseccomp', async (t) => {
  const r = berth(['--version']);
  t.equal(r.status, 0);
  t.match(r.stdout, /^berth version \d+\.\d+\.\d+\nspec: 1\.3\.0\n/);
  t.match(r.stdout, /libseccomp: \d+\.\d+\.\d+/);
});

t.test('an unknown command is an error on stderr with a non-zero status', async (t) => {
  const r = berth(['frobnicate']);
  t.not(r.status, 0);
  t.match(r.stderr, /Unknown command: frobnicate/);
  t.equal(r.stdout, '');
});

t.test('usage errors reach --log in the requested format', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-log-'));
  const logFile = join(dir, 'log.json');
  const r = berth(['--log', logFile, '--log-format', 'json', 'frobnicate']);
  t.not(r.status, 0);
  const entry = JSON.parse(readFileSync(logFile, 'utf8').trim().split('\n').pop()!);
  t.equal(entry.level, 'error');
  t.match(entry.msg, /frobnicate/);
  t.ok(!Number.isNaN(Date.parse(entry.time)), 'time is a timestamp');
});

t.test('every command has --help', async (t) => {
  for (const c of ['create', 'start', 'run', 'state', 'kill', 'delete', 'exec', 'ps', 'list', 'pause', 'resume', 'events', 'update', 'spec', 'features', 'validate']) {
    const r = berth([c, '--help']);
    t.equal(r.status, 0, `${c} --help exits 0`);
    t.match(r.stdout, new RegExp(`berth ${c}`), `${c} --help shows its usage`);
  }
});

t.test('a missing argument is only a usage error: the command does not run without it', async (t) => {
  for (const c of ['start', 'state', 'kill', 'delete', 'exec', 'pause', 'resume', 'create', 'run']) {
    const root = mkdtempSync(join(tmpdir(), 'berth-noarg-'));
    const r = berth(['--root', root, c]);
    t.equal(r.status, 1, `${c} exits 1`);
    t.equal(r.stderr, 'berth: Not enough non-option arguments: got 0, need at least 1\n', `${c}: one usage message, and nothing from the command`);
    t.equal(r.stdout, '');
  }
});
