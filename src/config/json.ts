// JSON.parse with errors a person can act on: `config.json:12:5: Unexpected token ...`.
import { BerthError } from '../errors.js';

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

const END_OF_INPUT = /Unexpected end of JSON input/;
const POSITION = /at position (\d+)/;

/**
 * Whether the first `length` characters hold a syntax error, as opposed to being a
 * correct but unfinished document (which fails at its very end: "Unexpected end of
 * JSON input", "Unterminated string ... at position <length>").
 */
function prefixIsBroken(text: string, length: number): boolean {
  try {
    JSON.parse(text.slice(0, length));
    return false;
  } catch (error) {
    const message = (error as Error).message;
    const at = POSITION.exec(message);
    if (at) return Number(at[1]) < length;
    return !END_OF_INPUT.test(message);
  }
}

// Node 20's SyntaxError mostly says "... in JSON at position N"; a truncated document is
// "Unexpected end of JSON input" (at the end); but "Unexpected token 'x', "<the
// document>" is not valid JSON" has no position. Then the error is where the shortest
// broken prefix ends, found by bisection (a prefix stays broken once it is).
function errorOffset(message: string, text: string): number {
  const at = POSITION.exec(message);
  if (at) return Number(at[1]);
  if (END_OF_INPUT.test(message)) return text.length;
  let good = 0;
  let broken = text.length;
  while (broken - good > 1) {
    const middle = Math.floor((good + broken) / 2);
    if (prefixIsBroken(text, middle)) broken = middle;
    else good = middle;
  }
  return broken - 1;
}

/** The reason alone: no position (berth prints line:column) and no copy of the document. */
function reason(message: string): string {
  return message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/ at position \d+.*$/s, '')
    .replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '');
}

export function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const { line, column } = lineColumn(text, errorOffset(message, text));
    throw new BerthError(`${name}:${line}:${column}: ${reason(message)}`);
  }
}
