// A problem found in a config, state or features document, named by the JSON path a
// user would type to find it: `linux.namespaces[2].type`, `annotations["org.x"]`.

export interface Problem {
  /** Dotted/bracketed path of the offending value; '' is the document itself. */
  path: string;
  message: string;
  /** Not fatal: reported, but the document is still used (runc warns about these too). */
  warning?: boolean;
}

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** ['linux', 'namespaces', 2, 'type'] -> 'linux.namespaces[2].type'. */
export function jsonPath(segments: readonly PathSegment[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/**
 * A JSON Pointer (RFC 6901, as ajv's instancePath) as path segments. Array indexes are
 * told apart from object keys by the document itself, so `{"0": ...}` stays a key.
 */
export function pointerSegments(pointer: string, document: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let node: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      segments.push(Number(key));
      node = node[Number(key)];
    } else {
      segments.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

/** One line per problem, as berth prints them: `process.user.uid: must be an integer`. */
export function formatProblems(problems: readonly Problem[], documentName = 'config.json'): string {
  return problems
    .map((p) => `${p.warning ? 'warning: ' : ''}${p.path === '' ? documentName : p.path}: ${p.message}`)
    .join('\n');
}
