/**
 * Embedded PostgreSQL (PGlite, WebAssembly) for the CLI, tests and single-node servers.
 *
 * PGlite is single-connection: one backend in this process serves every query in turn and
 * transactions are serialised behind one another. Nothing else may open the same data
 * directory meanwhile — a second PGlite on it would corrupt it — so a lock file refuses that.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import v8 from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { MIGRATIONS_FOLDER, migrationsFingerprint } from './migrations.ts';
import * as schema from './schema.ts';
import { DatabaseError, reasonOf, type Database } from './types.ts';

const require = createRequire(import.meta.url);
const PGLITE_DIST = dirname(require.resolve('@electric-sql/pglite'));
const PGLITE_VERSION = (JSON.parse(readFileSync(join(PGLITE_DIST, '..', 'package.json'), 'utf8')) as { version: string }).version;

// Compiling the 9 MB WebAssembly module once per process instead of once per database saves a few
// hundred milliseconds on every further open. The file-system bundle is left to PGlite to read per
// open: keeping it here would hold 6 MB for the life of the process to save a few milliseconds.
let wasmModule: Promise<WebAssembly.Module> | undefined;
function loadWasmModule(): Promise<WebAssembly.Module> {
  if (!wasmModule) baselineCompilerOnly();
  wasmModule ??= readFile(join(PGLITE_DIST, 'pglite.wasm'))
    .then((bytes) => WebAssembly.compile(bytes))
    .catch((error: unknown) => {
      wasmModule = undefined;
      throw error;
    });
  return wasmModule;
}

/**
 * PostgreSQL in WebAssembly runs on V8's baseline compiler (Liftoff) only. By default V8 recompiles hot
 * functions with its optimising compiler: for this 9 MB module that costs ~50 MB of compiler memory
 * that stays with the process and, on two cores, more CPU than it saves. Measured here with 6,000 and
 * 40,000 upserts + selects: 170–178 MB instead of 224–243 MB, and 17–26% faster. The flag is read when
 * a module is compiled, so it is set before ours is (it applies to this process's later modules too).
 */
function baselineCompilerOnly(): void {
  v8.setFlagsFromString('--liftoff-only');
}

/**
 * PostgreSQL's settings inside PGlite, on top of PGlite's own. shared_buffers defaults to 128 MB, which
 * PostgreSQL touches at start and which grows the WebAssembly heap past its 128 MiB floor. 8 MB is
 * ~136 MB less resident memory than the default (and 7 MB less than 16 MB) with no measurable cost to
 * the engine benchmarks: one connection, the database of a single Baton process, and pages beyond the
 * buffers come from the OS page cache.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=8MB'];

/**
 * A tarball of a freshly initialised and migrated data directory. `initdb` takes ~5 s in
 * WebAssembly, loading this takes <1 s, so new databases start from it. It is cached in the OS temp
 * dir, keyed by the PGlite version and the migrations, and read from there at each use (41 MB this
 * process need not hold); only when that directory cannot be written is it kept in memory.
 */
type TemplateSource = { file: string } | { bytes: Uint8Array<ArrayBuffer> };
let template: Promise<TemplateSource> | undefined;
function templateSource(): Promise<TemplateSource> {
  template ??= buildOrFindTemplate().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

/** The template as extractTemplate takes it: its cache file when there is one (rebuilt if removed since). */
async function templateSourceForExtraction(): Promise<Uint8Array | { file: string }> {
  const source = await templateSource();
  if ('bytes' in source) return source.bytes;
  if (existsSync(source.file)) return source;
  return templateBytes();
}

async function templateBytes(): Promise<Uint8Array<ArrayBuffer>> {
  const source = await templateSource();
  if ('bytes' in source) return source.bytes;
  try {
    return await readFile(source.file);
  } catch {
    // removed since (a temp-dir cleaner): build it again
    template = undefined;
    const again = await templateSource();
    return 'bytes' in again ? again.bytes : readFile(again.file);
  }
}

/**
 * PGlite serves one database, `postgres`; initdb also made `template0` and `template1`, for CREATE
 * DATABASE, which Baton never runs. Dropping them takes the data directory from ~1,050 files to ~370,
 * and creating files is what a new data directory costs (~1 ms each on an ext4 VM disk): a first
 * start ~0.6 s sooner. The checkpoint leaves the dump a clean shutdown state. Part of the cache key.
 */
const TEMPLATE_RECIPE = ['template0', 'template1']
  .flatMap((name) => [`ALTER DATABASE ${name} IS_TEMPLATE false`, `DROP DATABASE ${name}`])
  .concat('CHECKPOINT');

async function buildOrFindTemplate(): Promise<TemplateSource> {
  const key = createHash('sha256').update(PGLITE_VERSION).update(TEMPLATE_RECIPE.join(';')).update(migrationsFingerprint()).digest('hex').slice(0, 16);
  const cacheDir = join(tmpdir(), `baton-pglite-${userInfo().uid}`);
  const cacheFile = join(cacheDir, `template-${key}.tar`);
  if (existsSync(cacheFile)) return { file: cacheFile };
  const client = await PGlite.create({ pgliteWasmModule: await loadWasmModule(), startParams: START_PARAMS });
  let tarball: Uint8Array<ArrayBuffer>;
  try {
    await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    for (const statement of TEMPLATE_RECIPE) await client.exec(statement); // DROP DATABASE: one per statement
    tarball = new Uint8Array(await (await client.dumpDataDir('none')).arrayBuffer());
  } finally {
    await client.close();
  }
  return (await writeTemplateCache(cacheDir, cacheFile, tarball)) ? { file: cacheFile } : { bytes: tarball };
}

/** Best effort, false when it failed: a read-only or foreign temp dir only costs memory (or the next process a rebuild). */
async function writeTemplateCache(cacheDir: string, cacheFile: string, tarball: Uint8Array): Promise<boolean> {
  try {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const partial = `${cacheFile}.${process.pid}.partial`;
    await writeFile(partial, tarball);
    await rename(partial, cacheFile); // atomic: readers never see half a tarball
  } catch {
    return false;
  }
  try {
    for (const name of await readdir(cacheDir)) {
      if (name.startsWith('template-') && join(cacheDir, name) !== cacheFile && name.endsWith('.tar')) {
        await rm(join(cacheDir, name), { force: true });
      }
    }
  } catch {
    // ignore: stale templates only take disk space
  }
  return true;
}

const TAR_BLOCK = 512;
const EXTRACT_CONCURRENCY = 32;
const COPY_CHUNK = 256 * 1024;

/** A file of the template tarball: where its bytes start and how many. */
interface TarEntry {
  path: string;
  offset: number;
  size: number;
}

/** Where a template tarball is read from: positional reads, so a file on disk is never held whole. */
interface TarReader {
  read(position: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

function bytesReader(tarball: Uint8Array): TarReader {
  return { read: async (position, length) => tarball.subarray(position, position + length), close: async () => {} };
}

async function fileReader(file: string): Promise<TarReader> {
  const handle = await open(file, 'r');
  return {
    async read(position, length) {
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return buffer.subarray(0, bytesRead);
    },
    close: () => handle.close(),
  };
}

/**
 * Writes the data directory of a template tarball (ustar, as PGlite's dumpDataDir makes it) into
 * `pgdata` with Node's file system: PGlite's own loader goes through its emulated file system and
 * takes ~1.5 s, this ~0.1 s. The tarball is a file (read in pieces: a fresh start does not hold 25 MB
 * that the allocator would keep after) or bytes. PG_VERSION, which marks the directory as a database,
 * is written last, so an extraction cut short is redone at the next open.
 */
export async function extractTemplate(tarball: Uint8Array | { file: string }, pgdata: string): Promise<void> {
  const reader = tarball instanceof Uint8Array ? bytesReader(tarball) : await fileReader(tarball.file);
  try {
    await extractFrom(reader, pgdata);
  } finally {
    await reader.close();
  }
}

async function extractFrom(reader: TarReader, pgdata: string): Promise<void> {
  const directories = new Set<string>([pgdata]);
  const files: TarEntry[] = [];
  let version: TarEntry | undefined;
  for (let offset = 0; ; ) {
    const header = await reader.read(offset, TAR_BLOCK);
    if (header.length === 0) break; // no end-of-archive blocks: tolerated
    if (header.length < TAR_BLOCK) throw new Error(`template tarball: truncated at byte ${offset + header.length}`);
    const text = (start: number, length: number) => {
      const field = header.subarray(start, start + length);
      const end = field.indexOf(0);
      return Buffer.from(end === -1 ? field : field.subarray(0, end)).toString('utf8');
    };
    const name = text(0, 100);
    if (!name) break; // the zero blocks that end the archive
    const prefix = text(257, 6) === 'ustar' ? text(345, 155) : '';
    const size = parseInt(text(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 0x30);
    const relative = (prefix ? `${prefix}/${name}` : name).replace(/^\/+/, '');
    const path = resolve(pgdata, relative);
    if (relative.split('/').includes('..') || !path.startsWith(pgdata)) throw new Error(`template tarball: unsafe entry '${relative}'`);
    const entry: TarEntry = { path, offset: offset + TAR_BLOCK, size };
    offset += TAR_BLOCK + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
    if (type === '5') {
      directories.add(path);
    } else if (type === '0') {
      directories.add(dirname(path));
      if (relative === 'PG_VERSION') version = entry;
      else files.push(entry);
    }
  }
  if (!version) throw new Error('template tarball: no PG_VERSION');
  // Shortest first, so parents exist before their children.
  for (const directory of [...directories].sort((x, y) => x.length - y.length)) await mkdir(directory, { recursive: true });
  // A tarball cut short (a partial cache file) must fail, not write short files or loop on empty reads.
  const readAll = async (entry: TarEntry, position: number, length: number) => {
    const bytes = await reader.read(entry.offset + position, length);
    if (bytes.length < length) throw new Error(`template tarball: truncated in '${relative(pgdata, entry.path)}'`);
    return bytes;
  };
  const copy = async (entry: TarEntry) => {
    if (entry.size <= COPY_CHUNK) {
      await writeFile(entry.path, await readAll(entry, 0, entry.size));
      return;
    }
    const out = await open(entry.path, 'w');
    try {
      for (let done = 0; done < entry.size; ) {
        const chunk = await readAll(entry, done, Math.min(COPY_CHUNK, entry.size - done));
        await out.write(chunk, 0, chunk.length, done);
        done += chunk.length;
      }
    } finally {
      await out.close();
    }
  };
  let next = 0;
  const writer = async () => {
    while (next < files.length) await copy(files[next++]);
  };
  await Promise.all(Array.from({ length: EXTRACT_CONCURRENCY }, writer));
  await copy(version);
}

/** A data directory made ready to open: locked by this process, written from the template if new. */
interface PreparedDataDir {
  release(): Promise<void>;
  /** Why preparing failed (the lock is released then), for openPglite to report. */
  error?: unknown;
}

const preparing = new Map<string, Promise<PreparedDataDir>>();

/**
 * Starts what opening `<dataDir>/pglite` needs before PostgreSQL itself starts: the lock, compiling
 * PGlite's WebAssembly (other threads) and, for a new directory, writing it from the template (the
 * thread pool). A process calls this first and loads the rest of its modules meanwhile; openPglite
 * then finds it under way. Failures are reported by openPglite, not here.
 */
export function prepareDataDir(dataDir: string): void {
  if (dataDir === 'memory://') return;
  const pgdata = join(resolve(dataDir), 'pglite');
  if (preparing.has(pgdata)) return;
  preparing.set(pgdata, prepare(pgdata));
}

async function prepare(pgdata: string): Promise<PreparedDataDir> {
  let release: () => Promise<void>;
  try {
    release = await lockDataDir(pgdata);
  } catch (error) {
    return { release: async () => {}, error };
  }
  try {
    const compiled = loadWasmModule();
    compiled.catch(() => {}); // awaited below; a failed extraction must not leave it unhandled
    if (!existsSync(join(pgdata, 'PG_VERSION'))) await extractTemplate(await templateSourceForExtraction(), pgdata);
    await compiled;
    return { release };
  } catch (error) {
    await release();
    return { release: async () => {}, error: new DatabaseError(`cannot open the embedded database (${pgdata}): ${reasonOf(error)}`, { cause: error }) };
  }
}

/** Opens an in-memory database (`dataDir === 'memory://'`) or the one under `<dataDir>/pglite`. */
export async function openPglite(dataDir: string): Promise<Database> {
  const inMemory = dataDir === 'memory://';
  const pgdata = inMemory ? undefined : join(resolve(dataDir), 'pglite');
  const where = pgdata ?? 'memory';
  let release = async () => {};
  if (pgdata) {
    prepareDataDir(dataDir);
    const prepared = await preparing.get(pgdata)!;
    preparing.delete(pgdata);
    if (prepared.error) throw prepared.error;
    release = prepared.release;
  }

  let client: PGlite;
  try {
    client = await PGlite.create({
      pgliteWasmModule: await loadWasmModule(),
      startParams: START_PARAMS,
      ...(pgdata ? { dataDir: pgdata } : { loadDataDir: new Blob([await templateBytes()]) }),
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

/**
 * Takes `<pgdata>.lock`; resolves to its release. The lock names our pid and, on Linux, which process
 * that pid is (the boot and the start time): after a crash the pid may be reused by another process
 * (in a container, the same few pids come back at every restart), and a lock naming it must not
 * block the start for ever.
 */
async function lockDataDir(pgdata: string): Promise<() => Promise<void>> {
  const lockFile = `${pgdata}.lock`;
  await mkdir(dirname(pgdata), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lockFile, lockContent(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        throw new DatabaseError(`cannot lock the embedded database ${pgdata}: ${reasonOf(error)}`, { cause: error });
      }
      const holder = await readLock(lockFile);
      if (holder.pid === process.pid ? heldHere.has(pgdata) : holdsLock(holder)) {
        throw new DatabaseError(
          `the embedded database ${pgdata} is already open in process ${holder.pid}; ` +
            'PGlite allows one process at a time (use a PostgreSQL DATABASE_URL to share a database)',
        );
      }
      await unlink(lockFile).catch(() => {}); // stale: its process is gone, or the pid is another process's now
    }
  }
  heldHere.add(pgdata);
  return async () => {
    heldHere.delete(pgdata);
    await unlink(lockFile).catch(() => {});
  };
}

/** Which process a pid is: the pid is reused, the pair (boot, start time) never is. */
interface ProcessIdentity {
  bootId: string;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat): immune to wall-clock changes. */
  startTicks: string;
}

/** What a lock file says: its pid, the identity of the process that wrote it (absent off Linux and in older locks), its mtime. */
interface LockHolder {
  pid: number;
  identity?: ProcessIdentity;
  writtenAtMs: number;
}

/** `<pid>` on the first line, `<boot id> <start ticks>` on the second when known. */
function lockContent(pid: number): string {
  const identity = processIdentity(pid);
  return identity ? `${pid}\n${identity.bootId} ${identity.startTicks}\n` : String(pid);
}

async function readLock(lockFile: string): Promise<LockHolder> {
  const [text, info] = await Promise.all([readFile(lockFile, 'utf8').catch(() => ''), stat(lockFile).catch(() => undefined)]);
  const [pidLine = '', identityLine = ''] = text.split('\n');
  const [bootId, startTicks] = identityLine.trim().split(' ');
  return {
    pid: Number(pidLine.trim()),
    identity: bootId && startTicks ? { bootId, startTicks } : undefined,
    writtenAtMs: info?.mtimeMs ?? 0,
  };
}

/**
 * Older locks name only a pid. Their process wrote them after it started, so a process with that pid
 * that started well after the lock was written is another one. "Well after": the two times come from
 * the wall clock, which may have been stepped meanwhile (NTP, a resumed VM).
 */
const LEGACY_LOCK_CLOCK_SLACK_MS = 5 * 60_000;

/** Whether the process a lock names still holds it: alive, and (where this can be told) the same process. */
function holdsLock(holder: LockHolder): boolean {
  if (!isAlive(holder.pid)) return false;
  const current = processIdentity(holder.pid);
  if (!current) return true; // cannot tell (no /proc): a live pid holds it
  if (holder.identity) return holder.identity.bootId === current.bootId && holder.identity.startTicks === current.startTicks;
  const startedAtMs = processStartMs(current);
  return startedAtMs === undefined || startedAtMs <= holder.writtenAtMs + LEGACY_LOCK_CLOCK_SLACK_MS;
}

/** The pid's identity from /proc, or undefined (not Linux, no such process, /proc hidden). */
function processIdentity(pid: number): ProcessIdentity | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return startTicks && /^\d+$/.test(startTicks) && bootId ? { bootId, startTicks } : undefined;
  } catch {
    return undefined;
  }
}

/** Linux reports start times in USER_HZ ticks, 100 a second on every architecture Node runs on. */
const USER_HZ = 100;

/** When the process started, by the wall clock (boot time + start ticks), or undefined. */
function processStartMs(identity: ProcessIdentity): number | undefined {
  try {
    const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(bootSeconds) ? (bootSeconds + Number(identity.startTicks) / USER_HZ) * 1000 : undefined;
  } catch {
    return undefined;
  }
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
