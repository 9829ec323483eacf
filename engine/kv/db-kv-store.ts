import { and, eq, gt, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import { kv, toIsoTimestamp, type Db } from '../../db/index.ts';
import { InvalidDurationError, parseIsoDuration } from '../duration.ts';
import { InvalidKvTtlError, KvKeyExistsError } from './errors.ts';
import type { KvEntry, KvSetOptions, KvStore, KvType } from './types.ts';
import { checkKvKey, checkKvNamespace, toTypedValue } from './values.ts';

/**
 * The columns of an entry, with the value read as JSON text: drizzle's jsonb mapping re-parses
 * top-level JSON strings, so the STRING '42' would otherwise come back as the number 42.
 */
const ENTRY = {
  namespace: kv.namespace,
  key: kv.key,
  type: kv.type,
  valueJson: sql<string | null>`${kv.value}::text`,
  description: kv.description,
  expiresAt: kv.expiresAt,
  updatedAt: kv.updatedAt,
};

interface EntryRow {
  namespace: string;
  key: string;
  type: string;
  valueJson: string | null;
  description: string | null;
  expiresAt: string | null;
  updatedAt: string;
}

/**
 * The KV store in the `kv` table. Expiry is judged by this process's clock, which also wrote
 * the expiration dates; expired entries read as absent and are deleted when next touched.
 */
export class DbKvStore implements KvStore {
  constructor(private readonly db: Db) {}

  async get(namespace: string, key: string): Promise<KvEntry | undefined> {
    checkKvKey(namespace, key);
    const now = new Date();
    const [row] = await this.db.select(ENTRY).from(kv).where(this.entry(namespace, key));
    if (!row) return undefined;
    if (isExpired(row, now)) {
      await this.db.delete(kv).where(and(this.entry(namespace, key), lte(kv.expiresAt, now.toISOString())));
      return undefined;
    }
    return toEntry(row);
  }

  async set(namespace: string, key: string, value: unknown, options: KvSetOptions = {}): Promise<KvEntry> {
    checkKvKey(namespace, key);
    const typed = toTypedValue(namespace, key, value, options.type);
    const now = new Date();
    const expiresAt = options.ttl === undefined ? null : new Date(now.getTime() + ttlMillis(namespace, key, options.ttl)).toISOString();
    const fields = {
      type: typed.type,
      value: typed.value,
      description: options.description ?? null,
      expiresAt,
      updatedAt: now.toISOString(),
    };
    const insert = this.db.insert(kv).values({ namespace, key, ...fields });
    // One statement either way, so two writers racing on `overwrite: false` cannot both win.
    const [saved] = await (options.overwrite === false
      ? insert.onConflictDoUpdate({
          target: [kv.namespace, kv.key],
          set: fields,
          setWhere: and(isNotNull(kv.expiresAt), lte(kv.expiresAt, now.toISOString())),
        })
      : insert.onConflictDoUpdate({ target: [kv.namespace, kv.key], set: fields })
    ).returning(ENTRY);
    if (!saved) throw new KvKeyExistsError(namespace, key);
    return toEntry(saved);
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    checkKvKey(namespace, key);
    const now = new Date();
    const deleted = await this.db.delete(kv).where(this.entry(namespace, key)).returning({ expiresAt: kv.expiresAt });
    return deleted.length > 0 && !isExpired(deleted[0], now);
  }

  /** The live entries of a namespace, by key; purges its expired ones on the way. */
  async list(namespace: string): Promise<KvEntry[]> {
    checkKvNamespace(namespace);
    const now = new Date().toISOString();
    await this.db.delete(kv).where(and(eq(kv.namespace, namespace), lte(kv.expiresAt, now)));
    const rows = await this.db
      .select(ENTRY)
      .from(kv)
      .where(and(eq(kv.namespace, namespace), or(isNull(kv.expiresAt), gt(kv.expiresAt, now))))
      // Byte order, not the database's locale, so both drivers list alike.
      .orderBy(sql`${kv.key} collate "C"`);
    return rows.map(toEntry);
  }

  private entry(namespace: string, key: string) {
    return and(eq(kv.namespace, namespace), eq(kv.key, key));
  }
}

function ttlMillis(namespace: string, key: string, ttl: string): number {
  try {
    return parseIsoDuration(ttl);
  } catch (error) {
    if (error instanceof InvalidDurationError) throw new InvalidKvTtlError(namespace, key, ttl, { cause: error });
    throw error;
  }
}

function isExpired(row: { expiresAt: string | null }, now: Date): boolean {
  return row.expiresAt !== null && Date.parse(toIsoTimestamp(row.expiresAt)) <= now.getTime();
}

function toEntry(row: EntryRow): KvEntry {
  return {
    namespace: row.namespace,
    key: row.key,
    type: row.type as KvType,
    value: row.valueJson === null ? null : (JSON.parse(row.valueJson) as unknown),
    ...(row.description !== null ? { description: row.description } : {}),
    ...(row.expiresAt !== null ? { expirationDate: toIsoTimestamp(row.expiresAt) } : {}),
    updateDate: toIsoTimestamp(row.updatedAt),
  };
}
