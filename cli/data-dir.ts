import { resolve } from 'node:path';

/** Where Baton keeps its embedded database and internal storage: BATON_DATA_DIR, else ./.baton. */
export function dataDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BATON_DATA_DIR || '.baton');
}
