/**
 * Embedded PostgreSQL (PGlite, WebAssembly) for the CLI, tests and single-node servers.
 *
 * PGlite is single-connection: one backend in this process serves every query in turn and
 * transactions are serialised behind one another. Nothing else may open the same data
 * directory meanwhile — a second PGlite on it would corrupt it — so a lock file refuses that.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { MIGRATIONS_FOLDER, migrationsFingerprint } from './migrations.ts';
import * as schema from './schema.ts';
import { DatabaseError, reasonOf, type Database } from './types.ts';

const require = createRequire(import.meta.url);
const PGLITE_DIST = dirname(require.resolve('@electric-sql/pglite'));
const PGLITE_VERSION = (JSON.parse(readFileSync(join(PGLITE_DIST, '..', 'package.json'), 'utf8')) as { version: string }).version;

interface Assets {
  pgliteWasmModule: WebAssembly.Module;
  fsBundle: Blob;
}

// Compiling the 9 MB WebAssembly module and reading the file-system bundle once per process
// instead of once per database saves a few hundred milliseconds on every further open.
let assets: Promise<Assets> | undefined;
function loadAssets(): Promise<Assets> {
  assets ??= (async () => ({
    pgliteWasmModule: await WebAssembly.compile(await readFile(join(PGLITE_DIST, 'pglite.wasm'))),
    fsBundle: new Blob([await readFile(join(PGLITE_DIST, 'pglite.data'))]),
  }))().catch((error: unknown) => {
    assets = undefined;
    throw error;
  });
  return assets;
}

/**
 * A tarball of a freshly initialised and migrated data directory. `initdb` takes ~5 s in
 * WebAssembly, loading this takes <1 s, so new databases start from it. It is cached in this
 * process and in the OS temp dir, keyed by the PGlite version and the migrations.
 */
let template: Promise<Blob> | undefined;
function loadTemplate(): Promise<Blob> {
  template ??= buildOrReadTemplate().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

async function buildOrReadTemplate(): Promise<Blob> {
  const key = createHash('sha256').update(PGLITE_VERSION).update(migrationsFingerprint()).digest('hex').slice(0, 16);
  const cacheDir = join(tmpdir(), `baton-pglite-${userInfo().uid}`);
  const cacheFile = join(cacheDir, `template-${key}.tar`);
  try {
    return new Blob([await readFile(cacheFile)]);
  } catch {
    // not cached yet (or unreadable): build it below
  }
  const client = await PGlite.create({ ...(await loadAssets()) });
  let tarball: Blob;
  try {
    await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    tarball = await client.dumpDataDir('none');
  } finally {
    await client.close();
  }
  await writeTemplateCache(cacheDir, cacheFile, tarball);
  return tarball;
}

/** Best effort: a read-only or foreign temp dir only costs the next process a rebuild. */
async function writeTemplateCache(cacheDir: string, cacheFile: string, tarball: Blob): Promise<void> {
  try {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const partial = `${cacheFile}.${process.pid}.partial`;
    await writeFile(partial, Buffer.from(await tarball.arrayBuffer()));
    await rename(partial, cacheFile); // atomic: readers never see half a tarball
    for (const name of await readdir(cacheDir)) {
      if (name.startsWith('template-') && join(cacheDir, name) !== cacheFile && name.endsWith('.tar')) {
        await rm(join(cacheDir, name), { force: true });
      }
    }
  } catch {
    // ignore: caching is an optimisation
  }
}

/** Opens an in-memory database (`dataDir === 'memory://'`) or the one under `<dataDir>/pglite`. */
export async function openPglite(dataDir: string): Promise<Database> {
  const inMemory = dataDir === 'memory://';
  const pgdata = inMemory ? undefined : join(resolve(dataDir), 'pglite');
  const where = pgdata ?? 'memory';
  const release = pgdata ? await lockDataDir(pgdata) : async () => {};

  let client: PGlite;
  try {
    const fresh = !pgdata || !existsSync(join(pgdata, 'PG_VERSION'));
    client = await PGlite.create({
      ...(await loadAssets()),
      ...(pgdata ? { dataDir: pgdata } : {}),
      ...(fresh ? { loadDataDir: await loadTemplate() } : {}),
    });
  } catch (error) {
    await release();
    throw new DatabaseError(`cannot open the embedded database (${where}): ${reasonOf(error)}`, { cause: error });
  }

  const db = drizzle({ client, schema });
  try {
    // Timestamps come back as text; pin the zone so both drivers print the same strings.
    await client.exec(`SET TIME ZONE 'UTC'`);
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } catch (error) {
    await client.close().catch(() => {});
    await release();
    throw new DatabaseError(`migrating the embedded database (${where}) failed: ${reasonOf(error)}`, { cause: error });
  }

  let closing: Promise<void> | undefined;
  return {
    db,
    driver: 'pglite',
    async listen(channel, onPayload) {
      return client.listen(channel, (payload) => onPayload(payload));
    },
    close: () => {
      closing ??= client.close().finally(release);
      return closing;
    },
  };
}

// Data directories this process holds, to tell "still open here" from a lock left by a crash.
const heldHere = new Set<string>();

/** Takes `<pgdata>.lock` (holding our pid); resolves to its release. */
async function lockDataDir(pgdata: string): Promise<() => Promise<void>> {
  const lockFile = `${pgdata}.lock`;
  await mkdir(dirname(pgdata), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        throw new DatabaseError(`cannot lock the embedded database ${pgdata}: ${reasonOf(error)}`, { cause: error });
      }
      const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (holder === process.pid ? heldHere.has(pgdata) : isAlive(holder)) {
        throw new DatabaseError(
          `the embedded database ${pgdata} is already open in process ${holder}; ` +
            'PGlite allows one process at a time (use a PostgreSQL DATABASE_URL to share a database)',
        );
      }
      await unlink(lockFile).catch(() => {}); // stale: its process is gone
    }
  }
  heldHere.add(pgdata);
  return async () => {
    heldHere.delete(pgdata);
    await unlink(lockFile).catch(() => {});
  };
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
