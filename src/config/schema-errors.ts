// ajv's errors, turned into one readable Problem per field. ajv reports in schema terms
// (keyword, params, JSON Pointer); a user wants the field and what it should be.
import type { ErrorObject } from 'ajv';
import { jsonPath, pointerSegments, type PathSegment, type Problem } from './problem.js';

type SchemaNode = { description?: string; minimum?: number; maximum?: number; pattern?: string };

/** A bound as a person reads it: 2^64-1 rather than 18446744073709552000. */
function bound(n: number): string {
  if (Math.abs(n) <= Number.MAX_SAFE_INTEGER) return String(n);
  const power = Math.round(Math.log2(Math.abs(n)));
  return n < 0 ? `-2^${power}` : `2^${power}-1`;
}

function typeWord(type: string): string {
  const article = /^[aeiou]/.test(type) ? 'an' : 'a';
  return `${article} ${type}`;
}

function range(parent: SchemaNode): string | undefined {
  if (parent.minimum === undefined || parent.maximum === undefined) return undefined;
  return `must be between ${bound(parent.minimum)} and ${bound(parent.maximum)}`;
}

/**
 * The message for one ajv error (type errors are merged per field by the caller), or
 * undefined for errors that only summarise others.
 */
function message(error: ErrorObject): string | undefined {
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as SchemaNode;
  switch (error.keyword) {
    case 'enum':
      return `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'minimum':
    case 'maximum':
      return range(parent) ?? `must be ${error.keyword === 'minimum' ? '>=' : '<='} ${bound(params.limit as number)}`;
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${error.keyword === 'exclusiveMinimum' ? '>' : '<'} ${bound(params.limit as number)}`;
    case 'pattern':
      return `must match /${String(params.pattern)}/`;
    case 'minItems':
      return `must have at least ${params.limit} ${params.limit === 1 ? 'entry' : 'entries'}`;
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return `unknown field ${JSON.stringify(params.additionalProperty)}`;
    case 'not':
    case 'false schema':
      return parent.description ?? 'is not allowed';
    case 'anyOf':
    case 'oneOf':
      return undefined;
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

/** Where an error belongs: a missing field is reported at the field, not its parent. */
function segmentsOf(error: ErrorObject, document: unknown): PathSegment[] {
  const segments = pointerSegments(error.instancePath, document);
  if (error.keyword === 'required') segments.push(String((error.params as { missingProperty: string }).missingProperty));
  if (error.keyword === 'additionalProperties') {
    segments.push(String((error.params as { additionalProperty: string }).additionalProperty));
  }
  return segments;
}

/**
 * ajv's errors as Problems: one per field and message, in document order of discovery.
 * Type and const errors on the same field (from anyOf/oneOf branches) merge into one
 * "must be a string or an integer" / "must be one of: a, b";
 * an anyOf/oneOf summary is dropped when its branches said something more precise, and
 * kept as "does not match any allowed form" when they did not.
 */
export function schemaProblems(errors: readonly ErrorObject[] | null | undefined, document: unknown): Problem[] {
  const byPath = new Map<string, { types: string[]; allowed: unknown[]; messages: string[] }>();
  const unexplained: string[] = [];
  for (const error of errors ?? []) {
    const path = jsonPath(segmentsOf(error, document));
    const entry = byPath.get(path) ?? { types: [], allowed: [], messages: [] };
    byPath.set(path, entry);
    if (error.keyword === 'type') {
      entry.types.push(...String((error.params as { type: string }).type).split(','));
      continue;
    }
    if (error.keyword === 'const') {
      entry.allowed.push((error.params as { allowedValue: unknown }).allowedValue);
      continue;
    }
    const text = message(error);
    if (text === undefined) unexplained.push(path);
    else if (!entry.messages.includes(text)) entry.messages.push(text);
  }
  const problems: Problem[] = [];
  for (const [path, { types, allowed, messages }] of byPath) {
    if (types.length > 0) problems.push({ path, message: `must be ${[...new Set(types)].map(typeWord).join(' or ')}` });
    if (allowed.length === 1) problems.push({ path, message: `must be ${String(allowed[0])}` });
    if (allowed.length > 1) problems.push({ path, message: `must be one of: ${[...new Set(allowed)].map(String).join(', ')}` });
    for (const text of messages) problems.push({ path, message: text });
  }
  for (const path of unexplained) {
    if (!problems.some((p) => isWithin(p.path, path))) problems.push({ path, message: 'does not match any allowed form' });
  }
  return problems;
}

/** Whether a problem at `path` is about the value at `parent` or something inside it. */
function isWithin(path: string, parent: string): boolean {
  return parent === '' || path === parent || path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`);
}
