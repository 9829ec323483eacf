/**
 * The `triggers` table: one row of state per Schedule trigger, and the claim that makes one scheduler
 * evaluate a trigger at a time. On PostgreSQL the claim is the row lock of a transaction
 * (`SELECT … FOR UPDATE SKIP LOCKED`), so any number of processes can share the database. PGlite is
 * single-process (its data directory is locked), so there the claim is a mutex of this process.
 */
import { and, asc, count, eq, not, sql, type SQL } from 'drizzle-orm';
import { PgliteDatabase } from 'drizzle-orm/pglite';
import { executions, inNamespaceOrBelow, pageWindow, toIsoTimestamp, triggers, type Db } from '../../db/index.ts';

export type TriggerRow = typeof triggers.$inferSelect;
export type TriggerPatch = Partial<Omit<typeof triggers.$inferInsert, 'namespace' | 'flowId' | 'triggerId' | 'updatedAt'>>;

export interface TriggerKey {
  namespace: string;
  flowId: string;
  triggerId: string;
}

/** `namespace/flowId/triggerId`: none of the three can hold a slash. */
export function keyOf(key: TriggerKey): string {
  return `${key.namespace}/${key.flowId}/${key.triggerId}`;
}

/** A row timestamp (PostgreSQL text) as a Date; null stays null. */
export function rowDate(value: string | null): Date | null {
  return value === null ? null : new Date(toIsoTimestamp(value));
}

export interface TriggerSearch {
  namespace?: string;
  exactNamespace?: boolean;
  flowId?: string;
  /** From 1. */
  page?: number;
  size?: number;
}

/** Another claim holds the trigger longer than a request may wait (PostgreSQL `lock_timeout`). */
export class TriggerBusyError extends Error {
  constructor(key: TriggerKey, options?: { cause?: unknown }) {
    super(`trigger ${keyOf(key)} is being evaluated; try again in a moment`, options);
    this.name = 'TriggerBusyError';
  }
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** A trigger row held by a claim: read it, change it, nobody else evaluates it meanwhile. */
export interface ClaimedTrigger {
  row: TriggerRow;
  update(patch: TriggerPatch): Promise<TriggerRow>;
}

/** Runs functions one after another: the claim on a single-process database. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

// One per embedded database, shared by every scheduler and API route of this process on it.
const embeddedClaims = new WeakMap<Db, Mutex>();

/** How long an API change waits for a scheduler that holds the trigger. */
const API_LOCK_TIMEOUT = '5s';

function matches(key: TriggerKey): SQL {
  return and(eq(triggers.namespace, key.namespace), eq(triggers.flowId, key.flowId), eq(triggers.triggerId, key.triggerId))!;
}


/** Reads and claims trigger rows. */
export class TriggerStore {
  constructor(private readonly db: Db) {}

  private get embedded(): boolean {
    return this.db instanceof PgliteDatabase;
  }

  async all(): Promise<TriggerRow[]> {
    return this.db.select().from(triggers);
  }

  async find(key: TriggerKey): Promise<TriggerRow | undefined> {
    const [row] = await this.db.select().from(triggers).where(matches(key));
    return row;
  }

  /** Creates the rows that do not exist yet (empty state: the scheduler computes it on its next claim). */
  async ensure(keys: readonly TriggerKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.insert(triggers).values(keys.map((k) => ({ ...k }))).onConflictDoNothing();
  }

  async remove(key: TriggerKey): Promise<void> {
    await this.db.delete(triggers).where(matches(key));
  }

  /**
   * Runs `fn` holding the trigger. `skip`: give up at once when another process holds it (the
   * scheduler: that one is evaluating it). `wait`: wait for it, at most a few seconds (API changes),
   * then TriggerBusyError. Resolves `{claimed: false}` when the row does not exist (or is held, with
   * `skip`). On PostgreSQL everything `fn` writes through `update` commits together.
   */
  async claim<T>(key: TriggerKey, mode: 'skip' | 'wait', fn: (trigger: ClaimedTrigger) => Promise<T>): Promise<{ claimed: true; value: T } | { claimed: false }> {
    if (this.embedded) {
      let mutex = embeddedClaims.get(this.db);
      if (!mutex) embeddedClaims.set(this.db, (mutex = new Mutex()));
      return mutex.run(async () => {
        const [row] = await this.db.select().from(triggers).where(matches(key));
        if (!row) return { claimed: false as const };
        return { claimed: true as const, value: await fn(this.claimed(this.db, key, row)) };
      });
    }
    try {
      return await this.db.transaction(async (tx) => {
        if (mode === 'wait') await tx.execute(sql.raw(`set local lock_timeout = '${API_LOCK_TIMEOUT}'`));
        const query = tx.select().from(triggers).where(matches(key));
        const [row] = mode === 'skip' ? await query.for('update', { skipLocked: true }) : await query.for('update');
        if (!row) return { claimed: false as const };
        return { claimed: true as const, value: await fn(this.claimed(tx, key, row)) };
      });
    } catch (error) {
      if (mode === 'wait' && codeOf(error) === '55P03') throw new TriggerBusyError(key, { cause: error });
      throw error;
    }
  }

  private claimed(q: Db | Tx, key: TriggerKey, row: TriggerRow): ClaimedTrigger {
    const claimed: ClaimedTrigger = {
      row,
      update: async (patch) => {
        const [updated] = await q.update(triggers).set({ ...patch, updatedAt: sql`now()` }).where(matches(key)).returning();
        claimed.row = updated;
        return updated;
      },
    };
    return claimed;
  }

  /**
   * The execution a Schedule trigger already created for `date` (its `trigger.date`, as formatted),
   * if any: what makes firing a date again after a crash a no-op. Backfill executions and scheduled
   * ones are told apart by the `system.backfill` label.
   */
  async executionFor(key: TriggerKey, type: string, date: string, backfill: boolean): Promise<string | undefined> {
    const backfillLabel = sql`${executions.labels} @> ${JSON.stringify([{ key: 'system.backfill', value: 'true' }])}::jsonb`;
    const [row] = await this.db
      .select({ id: executions.id })
      .from(executions)
      .where(
        and(
          eq(executions.namespace, key.namespace),
          eq(executions.flowId, key.flowId),
          sql`${executions.trigger} @> ${JSON.stringify({ id: key.triggerId, type, date })}::jsonb`,
          backfill ? backfillLabel : not(backfillLabel),
        ),
      )
      .limit(1);
    return row?.id;
  }

  /** Rows of a namespace (and those below it, unless `exactNamespace`) and/or a flow, paged from 1. */
  async search(filter: TriggerSearch): Promise<{ rows: TriggerRow[]; total: number }> {
    const conditions: SQL[] = [];
    if (filter.namespace && filter.exactNamespace) {
      conditions.push(eq(triggers.namespace, filter.namespace));
    } else if (filter.namespace) {
      conditions.push(inNamespaceOrBelow(triggers.namespace, filter.namespace));
    }
    if (filter.flowId) conditions.push(eq(triggers.flowId, filter.flowId));
    const where = conditions.length ? and(...conditions) : undefined;
    const window = pageWindow(filter);
    const [{ total }] = await this.db.select({ total: count() }).from(triggers).where(where);
    const rows = await this.db
      .select()
      .from(triggers)
      .where(where)
      .orderBy(asc(triggers.namespace), asc(triggers.flowId), asc(triggers.triggerId))
      .limit(window.limit)
      .offset(window.offset);
    return { rows, total: Number(total) };
  }
}

function codeOf(error: unknown): string | undefined {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
