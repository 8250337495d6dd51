// A module resolution hook, registered in a child node with `--import` (see
// test/startup.test.ts): appends the URL of every module the process resolves to the file
// named by BERTH_LOAD_LOG, so that a test sees which files a command really loads.
import { appendFileSync } from 'node:fs';

type Next = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, next: Next): Promise<{ url: string }> {
  const result = await next(specifier, context);
  appendFileSync(process.env['BERTH_LOAD_LOG']!, result.url + '\n');
  return result;
}
