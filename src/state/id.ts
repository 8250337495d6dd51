// Container ids, checked as runc checks them: they become directory names under --root,
// so anything that could name another directory ("..", "a/b") must never get through.
import { BerthError } from '../errors.js';

const ID_PATTERN = /^[\w+\-.]+$/;
/** Longer ids are no use to anyone and only risk ENAMETOOLONG deep inside a command. */
export const MAX_ID_LENGTH = 1024;

export function validateId(id: unknown): string {
  if (typeof id !== 'string' || id === '') throw new BerthError('container id cannot be empty');
  if (id.length > MAX_ID_LENGTH) throw new BerthError(`invalid container id: longer than ${MAX_ID_LENGTH} characters`);
  if (id === '.' || id === '..' || !ID_PATTERN.test(id)) {
    throw new BerthError(`invalid container id format: ${JSON.stringify(id)} (allowed: letters, digits, _ + - .)`);
  }
  return id;
}
