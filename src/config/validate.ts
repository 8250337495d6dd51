// Validation of berth's JSON documents: schema first (validators generated at build
// time, so nothing is compiled per call), then, for a config, the semantic rules. All
// functions are pure: they return every problem and never throw on bad input.
import { validateConfigSchema, validateFeaturesSchema, validateStateSchema } from '../generated/validators.js';
import type { ErrorObject } from 'ajv';
import { schemaProblems } from './schema-errors.js';
import { semanticProblems, type SemanticOptions } from './semantic.js';
import type { Problem } from './problem.js';
import type { Config } from './types.js';

export type { Problem } from './problem.js';
export type ValidateOptions = SemanticOptions;

interface GeneratedValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

function schemaCheck(validator: GeneratedValidator, document: unknown): Problem[] {
  return validator(document) ? [] : schemaProblems(validator.errors, document);
}

/**
 * Every problem of a config.json document. Semantic rules need a schema-valid config
 * (they read fields by their types), so they run once the schema problems are fixed.
 */
export function validateConfig(document: unknown, options: ValidateOptions = {}): Problem[] {
  const problems = schemaCheck(validateConfigSchema as GeneratedValidator, document);
  if (problems.length > 0) return problems;
  return semanticProblems(document as Config, options);
}

export function validateState(document: unknown): Problem[] {
  return schemaCheck(validateStateSchema as GeneratedValidator, document);
}

export function validateFeatures(document: unknown): Problem[] {
  return schemaCheck(validateFeaturesSchema as GeneratedValidator, document);
}

/** Problems that make the document unusable (warnings aside). */
export function errorsOf(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => !p.warning);
}
