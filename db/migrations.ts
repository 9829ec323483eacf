import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** drizzle-kit output, committed: `npm run db:generate` after editing db/schema.ts. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../migrations', import.meta.url));

interface Journal {
  entries: Array<{ tag: string }>;
}

/** A hash of every migration, so caches of a migrated database know when they are stale. */
export function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  const journal = readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8');
  hash.update(journal);
  for (const { tag } of (JSON.parse(journal) as Journal).entries) {
    hash.update(readFileSync(`${MIGRATIONS_FOLDER}/${tag}.sql`));
  }
  return hash.digest('hex');
}
