// berth's schemas against the runtime-spec's own (the oracle): on the spec's fixtures,
// on real configs (runc spec, berth spec) and on systematic mutations of them, both must
// accept and reject the same documents, except where the table below says berth
// deliberately differs, and why.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfigSchema, validateFeaturesSchema, validateStateSchema } from '../src/generated/validators.js';
import { parseJson } from '../src/config/json.js';
import { validateConfig } from '../src/config/validate.js';
import { berth } from './helpers/berth.js';
import { officialChecks, SPEC_SCHEMAS, SPEC_SCHEMAS_ABSENT, type Check, type Kind } from './helpers/spec-schemas.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const SPEC = SPEC_SCHEMAS;
const ABSENT = SPEC_SCHEMAS_ABSENT;

const berthChecks: Record<Kind, Check> = {
  config: (d) => validateConfigSchema(d) as boolean,
  state: (d) => validateStateSchema(d) as boolean,
  features: (d) => validateFeaturesSchema(d) as boolean,
};

const PLATFORMS = ['windows', 'solaris', 'vm', 'zos', 'freebsd'];

interface Disagreement {
  kind: Kind;
  rule: string;
  reason: string;
  /** 'stricter': berth rejects what the spec's schema accepts; 'laxer': the reverse. */
  berth: 'stricter' | 'laxer';
  covers: (document: any) => boolean;
}

/** Every deliberate difference between berth's schemas and the runtime-spec's. */
const DISAGREEMENTS: readonly Disagreement[] = [
  {
    kind: 'config',
    rule: 'non-Linux platform sections (windows, solaris, vm, zos, freebsd)',
    reason: 'berth runs Linux containers only: a config for another platform is rejected up front, with that message',
    berth: 'stricter',
    covers: (d) => d !== null && typeof d === 'object' && PLATFORMS.some((p) => p in d),
  },
  {
    kind: 'state',
    rule: 'status "paused"',
    reason: 'runc reports paused containers as "paused" and engines expect it; berth does the same',
    berth: 'laxer',
    covers: (d) => d?.status === 'paused',
  },
];

// ---- the corpus -------------------------------------------------------------------

interface Sample {
  name: string;
  document: unknown;
}

function fixtures(kind: Kind): Array<Sample & { expected: 'good' | 'bad' }> {
  const samples: Array<Sample & { expected: 'good' | 'bad' }> = [];
  for (const expected of ['good', 'bad'] as const) {
    const dir = join(SPEC, 'test', kind, expected);
    for (const file of readdirSync(dir).sort()) {
      const text = readFileSync(join(dir, file), 'utf8');
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        continue; // invalid-json.json: checked separately (a parse error, no schema involved)
      }
      samples.push({ name: `${kind}/${expected}/${file}`, document, expected });
    }
  }
  return samples;
}

/** A config written by a tool's `spec` command in a fresh directory, or why there is none. */
function specOutput(label: string, run: (cwd: string) => { status: number | null }): Sample | string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-oracle-'));
  try {
    const r = run(dir);
    const file = join(dir, 'config.json');
    if (r.status !== 0 || !existsSync(file)) return `${label} wrote no config.json (exit ${r.status})`;
    return { name: label, document: JSON.parse(readFileSync(file, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** berth's own fixtures: a config that sets every field the runtime-spec defines for Linux. */
function berthFixtures(): Sample[] {
  const file = join(repoRoot, 'test', 'fixtures', 'config', 'every-field.json');
  return [{ name: 'every-field.json', document: JSON.parse(readFileSync(file, 'utf8')) }];
}

type Resolve = (ref: string, file: string) => { node: any; file: string };

/**
 * Every field path a config schema defines (`.linux.resources.cpu.quota`,
 * `.mounts[].source`, `.linux.sysctl{}`), following $refs, so the corpus can be shown to
 * set them all. Non-Linux platform sections are left out.
 */
function fieldPaths(root: any, file: string, resolve: Resolve): Set<string> {
  const paths = new Set<string>();
  const visit = (node: any, at: string, path: string, depth: number): void => {
    if (depth > 20) return;
    if (node.$ref) {
      const target = resolve(node.$ref, at);
      visit(target.node, target.file, path, depth + 1);
    }
    for (const part of node.allOf ?? []) visit(part, at, path, depth + 1);
    for (const part of node.anyOf ?? []) visit(part, at, path, depth + 1);
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (path === '' && PLATFORMS.includes(key)) continue;
      paths.add(`${path}.${key}`);
      visit(child, at, `${path}.${key}`, depth + 1);
    }
    if (node.items) visit(node.items, at, `${path}[]`, depth + 1);
    if (typeof node.additionalProperties === 'object') visit(node.additionalProperties, at, `${path}{}`, depth + 1);
    for (const child of Object.values(node.patternProperties ?? {})) visit(child, at, `${path}{}`, depth + 1);
  };
  visit(root, file, '', 0);
  return paths;
}

function pointer(document: any, fragment: string): any {
  return fragment.split('/').filter(Boolean).reduce((node, key) => node[key], document);
}

function berthFieldPaths(): Set<string> {
  const schema = JSON.parse(readFileSync(join(repoRoot, 'spec', 'config.schema.json'), 'utf8'));
  return fieldPaths(schema, 'config.schema.json', (ref) => ({ node: pointer(schema, ref.split('#')[1]!), file: 'config.schema.json' }));
}

function officialFieldPaths(): Set<string> {
  const load = (file: string) => JSON.parse(readFileSync(join(SPEC, file), 'utf8'));
  const resolve: Resolve = (ref, from) => {
    const [target, fragment] = ref.split('#') as [string, string];
    const file = target === '' ? from : target;
    return { node: pointer(load(file), fragment), file };
  };
  return fieldPaths(load('config-schema.json'), 'config-schema.json', resolve);
}

/** The field paths a document sets, in schemaFieldPaths' notation. */
function documentFieldPaths(document: unknown, known: Set<string>): Set<string> {
  const paths = new Set<string>();
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) node.forEach((item) => visit(item, `${path}[]`));
    else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        const at = known.has(`${path}.${key}`) ? `${path}.${key}` : `${path}{}`;
        paths.add(at);
        visit(child, at);
      }
    }
  };
  visit(document, '');
  return paths;
}

function realConfigs(): { samples: Sample[]; missing: string[] } {
  const runc = (args: string[]) => (cwd: string) => spawnSync('runc', ['spec', ...args], { cwd });
  const found = [
    specOutput('runc spec', runc([])),
    specOutput('runc spec --rootless', runc(['--rootless'])),
    // `berth spec` joins the corpus as soon as src/commands/spec.ts is implemented.
    specOutput('berth spec', (cwd) => berth(['spec'], { cwd })),
  ];
  return {
    samples: found.filter((s): s is Sample => typeof s !== 'string'),
    missing: found.filter((s): s is string => typeof s === 'string'),
  };
}

type Path = Array<string | number>;

function setAt(document: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(document);
  if (path.length === 0) return value;
  let node: any = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]!] = value;
  return copy;
}

function deleteAt(document: unknown, path: Path): unknown {
  const copy = structuredClone(document) as any;
  let node: any = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  delete node[path[path.length - 1]!];
  return copy;
}

// Each integer range of the runtime-spec (int8..uint64, file modes, percentages), at its
// edges and one past them.
const BOUNDARIES = [
  -1, 0, 1, 100, 101, -128, -129, 127, 128, 255, 256, 511, 512, 65535, 65536, -(2 ** 15), -(2 ** 15) - 1, 2 ** 15 - 1, 2 ** 15,
  -(2 ** 31), -(2 ** 31) - 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 63, -(2 ** 63), -(2 ** 64), 2 ** 64, 2 ** 65,
];

/** Values of the wrong type, out of range or off the allowed list, for a value like this one. */
function wrongValues(value: unknown): unknown[] {
  if (typeof value === 'string') return [7, null, '', 'NOT_A_KNOWN_VALUE', 'x\ny'];
  if (typeof value === 'number') {
    return ['7', true, 1.5, ...BOUNDARIES];
  }
  if (typeof value === 'boolean') return ['true', 1];
  if (Array.isArray(value)) return [{}, 'x', [], [null], [7], [{}], ['x']];
  if (value !== null && typeof value === 'object') return [[], 'x', 7, {}];
  return [];
}

/** Every single-point mutation of a document: each field replaced, removed, or joined by an extra one. */
function* mutations(sample: Sample): Generator<Sample> {
  function* walk(node: unknown, path: Path): Generator<Sample> {
    const at = path.length === 0 ? '(document)' : path.join('.');
    for (const wrong of wrongValues(node)) {
      yield { name: `${sample.name}: ${at} = ${JSON.stringify(wrong)}`, document: setAt(sample.document, path, wrong) };
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) yield* walk(node[i], [...path, i]);
    } else if (node !== null && typeof node === 'object') {
      yield { name: `${sample.name}: ${at} + extra field`, document: setAt(sample.document, [...path, 'berthExtraField'], { x: 1 }) };
      for (const key of Object.keys(node)) {
        yield { name: `${sample.name}: ${at} - ${key}`, document: deleteAt(sample.document, [...path, key]) };
        yield* walk((node as Record<string, unknown>)[key], [...path, key]);
      }
    }
  }
  yield* walk(sample.document, []);
  for (const platform of PLATFORMS) {
    yield { name: `${sample.name}: + ${platform}`, document: setAt(sample.document, [platform], {}) };
  }
}

// ---- the comparison ---------------------------------------------------------------

interface Tally {
  compared: number;
  used: Map<string, number>;
  unexplained: string[];
}

function compare(kind: Kind, official: Check, samples: Iterable<Sample>, tally: Tally): void {
  for (const { name, document } of samples) {
    tally.compared++;
    const spec = official(document);
    const ours = berthChecks[kind](document);
    if (spec === ours) continue;
    const direction = ours ? 'laxer' : 'stricter';
    const rule = DISAGREEMENTS.find((d) => d.kind === kind && d.berth === direction && d.covers(document));
    if (rule) tally.used.set(rule.rule, (tally.used.get(rule.rule) ?? 0) + 1);
    else tally.unexplained.push(`${name}: runtime-spec ${spec ? 'accepts' : 'rejects'}, berth ${ours ? 'accepts' : 'rejects'}`);
  }
}

function newTally(): Tally {
  return { compared: 0, used: new Map(), unexplained: [] };
}

t.test('the oracle', { skip: ABSENT }, async (t) => {
  const official = officialChecks();

  t.test('the runtime-spec fixtures: good and bad as the spec says, modulo the table', async (t) => {
    for (const kind of ['config', 'state', 'features'] as const) {
      for (const sample of fixtures(kind)) {
        const ours = berthChecks[kind](sample.document);
        t.equal(official[kind](sample.document), sample.expected === 'good', `${sample.name}: the oracle agrees with its fixture`);
        const rule = DISAGREEMENTS.find((d) => d.kind === kind && d.covers(sample.document));
        if (rule && ours !== (sample.expected === 'good')) {
          t.pass(`${sample.name}: berth differs by rule "${rule.rule}"`);
        } else {
          t.equal(ours, sample.expected === 'good', `${sample.name}: berth says ${sample.expected}`);
        }
      }
      const invalid = join(SPEC, 'test', kind, 'bad', 'invalid-json.json');
      if (existsSync(invalid)) {
        t.throws(() => parseJson(readFileSync(invalid, 'utf8'), 'config.json'), { message: /^config\.json:1:\d+: / }, `${kind} invalid-json is a parse error with its position`);
      }
    }
  });

  t.test('configs, fixtures and every single-point mutation of them', async (t) => {
    const { samples, missing } = realConfigs();
    for (const why of missing) t.comment(`not in the corpus: ${why}`);
    t.ok(samples.some((s) => s.name === 'runc spec'), 'runc spec is in the corpus (runc is installed where tests run)');
    const bases = [...samples, ...berthFixtures(), ...fixtures('config').filter((s) => s.expected === 'good')];
    const ours = berthFieldPaths();
    const theirs = officialFieldPaths();
    t.same([...theirs].filter((f) => !ours.has(f)), [], 'berth\'s schema defines every Linux field of the runtime-spec\'s');
    const reached = new Set(bases.flatMap((b) => [...documentFieldPaths(b.document, ours)]));
    t.same([...ours].filter((f) => !reached.has(f)), [], `the corpus sets each of the ${ours.size} fields of berth's schema`);
    const tally = newTally();
    const crashes: string[] = [];
    for (const base of bases) {
      const corpus = [base, ...mutations(base)];
      compare('config', official.config, corpus, tally);
      // Whatever the document, validation answers with problems: it never throws.
      for (const { name, document } of corpus) {
        try {
          validateConfig(document, { forCreate: true });
        } catch (error) {
          crashes.push(`${name}: ${(error as Error).message}`);
        }
      }
    }
    t.same(crashes, [], 'full validation (schema and semantic rules) never throws');
    t.same(tally.unexplained, [], `no unexplained disagreement in ${tally.compared} configs`);
    t.ok(tally.compared > 10000, `a large corpus (${tally.compared} configs)`);
    for (const rule of DISAGREEMENTS.filter((d) => d.kind === 'config')) {
      t.ok((tally.used.get(rule.rule) ?? 0) > 0, `the corpus exercises "${rule.rule}" (${rule.reason})`);
    }
  });

  t.test('state and features documents and their mutations', async (t) => {
    for (const kind of ['state', 'features'] as const) {
      const tally = newTally();
      const bases = fixtures(kind).filter((s) => s.expected === 'good');
      for (const base of bases) compare(kind, official[kind], [base, ...mutations(base)], tally);
      const paused = { ...(bases[0]?.document as object), status: 'paused' };
      if (kind === 'state') compare(kind, official[kind], [{ name: 'state: status paused', document: paused }], tally);
      t.same(tally.unexplained, [], `${kind}: no unexplained disagreement in ${tally.compared} documents`);
      for (const rule of DISAGREEMENTS.filter((d) => d.kind === kind)) {
        t.ok((tally.used.get(rule.rule) ?? 0) > 0, `the corpus exercises "${rule.rule}" (${rule.reason})`);
      }
    }
  });
});
