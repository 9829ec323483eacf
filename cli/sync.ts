import { openDatabase } from '../db/index.ts';
import { createSyncer, syncConfigFromEnv } from '../sync/index.ts';
import { dataDirectory } from './data-dir.ts';

/** `baton sync`: syncs once and prints what changed; exit 1 when the commit was refused or the fetch failed. */
export async function syncCommand(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const unknown = argv.filter((a) => a !== '--json');
  if (unknown.length) {
    process.stderr.write(`baton sync: unexpected arguments: ${unknown.join(' ')}\nusage: baton sync [--json]\n`);
    return 2;
  }
  const config = syncConfigFromEnv();
  const database = await openDatabase({ url: process.env.DATABASE_URL || undefined, dataDir: dataDirectory() });
  try {
    const syncer = await createSyncer({ db: database.db, config, dataDir: dataDirectory() });
    const outcome = await syncer.request('cli');
    if (json) {
      process.stdout.write(`${JSON.stringify(outcome)}\n`);
    } else {
      const out = (line: string) => process.stdout.write(`${line}\n`);
      out(`${syncer.repository} (${syncer.branch}) @ ${outcome.commit?.sha.slice(0, 12) ?? '?'}: ${outcome.result}`);
      const c = outcome.changes;
      for (const f of c.added) out(`  added    ${f}`);
      for (const f of c.updated) out(`  updated  ${f}`);
      for (const f of c.deleted) out(`  deleted  ${f}`);
      for (const f of c.files.added) out(`  added    file ${f}`);
      for (const f of c.files.updated) out(`  updated  file ${f}`);
      for (const f of c.files.deleted) out(`  deleted  file ${f}`);
      for (const e of outcome.errors) process.stderr.write(`${e.path}${e.line ? `:${e.line}:${e.column}` : ''}: error: ${e.message}\n`);
    }
    return outcome.result === 'REFUSED' || outcome.result === 'ERROR' ? 1 : 0;
  } finally {
    await database.close();
  }
}
