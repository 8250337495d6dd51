// The runtime-spec's own JSON Schemas (draft-04), loaded from ../shared next to the
// repository: the oracle berth's documents are checked against. Test data only: they
// are never copied into the project.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ajvDraft04 from 'ajv-draft-04';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const SPEC_SCHEMAS = join(repoRoot, '..', 'shared', 'oci-runtime-spec-v1.3.0', 'schema');

/** A tap `skip` value: false when the schemas are there, else why not. */
export const SPEC_SCHEMAS_ABSENT = existsSync(SPEC_SCHEMAS)
  ? false
  : `${SPEC_SCHEMAS} is absent: the runtime-spec reference schemas live in ../shared next to the repository`;

export type Check = (document: unknown) => boolean;
export type Kind = 'config' | 'state' | 'features';

/** The official schemas, compiled. */
export function officialChecks(): Record<Kind, Check> {
  // A CommonJS module: its class is module.exports.default under NodeNext.
  const ajv = new ajvDraft04.default({ strict: false });
  for (const file of readdirSync(SPEC_SCHEMAS).filter((f) => f.endsWith('.json'))) {
    // Upstream defect (see ../shared/oci-runtime-spec-v1.3.0/README.md): defs.json has
    // "#definitions/uint32" for "#/definitions/uint32".
    const text = readFileSync(join(SPEC_SCHEMAS, file), 'utf8').replaceAll('"#definitions/', '"#/definitions/');
    ajv.addSchema(JSON.parse(text), file);
  }
  const check = (key: string): Check => {
    const validate = ajv.getSchema(key);
    if (!validate) throw new Error(`official schema ${key} did not compile`);
    return (document) => validate(document) as boolean;
  };
  return { config: check('config-schema.json'), state: check('state-schema.json'), features: check('features-schema.json') };
}
