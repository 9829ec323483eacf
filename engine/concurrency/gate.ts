/**
 * Flow concurrency (`concurrency: {limit, behavior}`), enforced in the database so it holds whichever
 * process starts the execution (API, webhook, scheduler, backfill, subflow, flow trigger) and however
 * many processes share one PostgreSQL.
 *
 * Every change to a flow's slots happens in a transaction holding that flow's advisory lock
 * (`pg_advisory_xact_lock`): admissions of one flow are serialized, so the count of RUNNING slots can
 * never pass the limit, and the order of QUEUED slots (`seq`) is the order of arrival.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { concurrencySlots, executions, type Db } from '../../db/index.ts';
import { STATES, isTerminal } from '../state.ts';

export type ConcurrencyBehavior = 'QUEUE' | 'CANCEL' | 'FAIL';

export interface ConcurrencyLimit {
  limit: number;
  behavior?: ConcurrencyBehavior;
}

/** The execution asking for a slot. */
export interface SlotHolder {
  id: string;
  namespace: string;
  flowId: string;
}

/**
 * What admission decided: `RUN` (a slot is held), `QUEUED` (wait with `waitForSlot`), or the flow's
 * behavior when the limit is reached and it does not queue (`CANCEL`, `FAIL`). `running` is how many
 * executions held a slot at that moment, for the message that records why.
 */
export interface Admission {
  decision: 'RUN' | 'QUEUED' | 'CANCEL' | 'FAIL';
  running: number;
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const TERMINAL_STATES = STATES.filter(isTerminal);

/** How often a queued execution looks for a slot freed by another process (this process wakes it at once). */
export const DEFAULT_SLOT_POLL_MS = 500;

/** The channel promotions are announced on (payload: promoted execution ids, comma-separated). */
export const SLOT_CHANNEL = 'baton_concurrency_slots';

/** Execution ids per notification: PostgreSQL caps a payload at 8000 bytes. */
const IDS_PER_NOTIFY = 200;

export interface ConcurrencyGateOptions {
  /** How often a queued execution looks for a slot without being woken (default DEFAULT_SLOT_POLL_MS). */
  pollMs?: number;
  /**
   * LISTEN on the database (see Database.listen): a slot freed by another process wakes the execution
   * it promoted at once instead of at its next poll.
   */
  listen?: (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>;
}

export class ConcurrencyGate {
  /** Queued executions of this process, woken when a release (here, or elsewhere through NOTIFY) promotes them. */
  private readonly waiters = new Map<string, () => void>();
  private listening: Promise<unknown> | undefined;

  constructor(
    private readonly db: Db,
    private readonly options: ConcurrencyGateOptions = {},
  ) {}

  /**
   * Takes a slot for the execution, queues it, or refuses it, by the flow's `concurrency`. An execution
   * that already has a slot row (a crash resumed, a second call) keeps it.
   */
  async admit(holder: SlotHolder, concurrency: ConcurrencyLimit): Promise<Admission> {
    const behavior = concurrency.behavior ?? 'QUEUE';
    const { admission, promoted } = await this.locked(holder, async (tx) => {
      const promoted = await this.promote(tx, holder, concurrency.limit);
      const [own] = await tx.select({ status: concurrencySlots.status }).from(concurrencySlots).where(eq(concurrencySlots.executionId, holder.id));
      const { running, queued } = await this.counts(tx, holder);
      if (own) return { admission: { decision: own.status === 'RUNNING' ? 'RUN' : 'QUEUED', running } as Admission, promoted };
      // Arrivals queue behind those already waiting: first come, first served.
      if (running < concurrency.limit && queued === 0) {
        await this.insert(tx, holder, 'RUNNING');
        return { admission: { decision: 'RUN', running } as Admission, promoted };
      }
      if (behavior === 'QUEUE') {
        await this.insert(tx, holder, 'QUEUED');
        return { admission: { decision: 'QUEUED', running } as Admission, promoted };
      }
      return { admission: { decision: behavior, running } as Admission, promoted };
    });
    this.wake(promoted);
    return admission;
  }

  /**
   * Waits until the queued execution holds a slot. Resolves true when it does, false when `signal` is
   * aborted first (a kill); the slot row is then the caller's to `release`.
   */
  async waitForSlot(holder: SlotHolder, concurrency: ConcurrencyLimit, signal: AbortSignal): Promise<boolean> {
    const pollMs = this.options.pollMs ?? DEFAULT_SLOT_POLL_MS;
    await this.listenOnce();
    while (!signal.aborted) {
      // A pass of promotion first: slots freed by a process that died, or a raised limit.
      const promoted = await this.locked(holder, (tx) => this.promote(tx, holder, concurrency.limit));
      this.wake(promoted);
      if (promoted.includes(holder.id) || (await this.statusOf(holder.id)) === 'RUNNING') return true;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.waiters.delete(holder.id);
          resolve();
        };
        const timer = setTimeout(done, pollMs);
        signal.addEventListener('abort', done, { once: true });
        this.waiters.set(holder.id, done);
      });
    }
    return false;
  }

  /** Gives the slot (or the place in the queue) back and lets the next queued executions run. */
  async release(holder: SlotHolder, concurrency: ConcurrencyLimit): Promise<void> {
    const promoted = await this.locked(holder, async (tx) => {
      await tx.delete(concurrencySlots).where(eq(concurrencySlots.executionId, holder.id));
      return this.promote(tx, holder, concurrency.limit);
    });
    this.wake(promoted);
  }

  /** Slot rows of a flow in queue order (the dashboard and tests). */
  async slotsOf(namespace: string, flowId: string): Promise<Array<{ executionId: string; status: string }>> {
    return this.db
      .select({ executionId: concurrencySlots.executionId, status: concurrencySlots.status })
      .from(concurrencySlots)
      .where(and(eq(concurrencySlots.namespace, namespace), eq(concurrencySlots.flowId, flowId)))
      .orderBy(asc(concurrencySlots.seq));
  }

  private async locked<T>(holder: SlotHolder, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`baton.concurrency:${holder.namespace}/${holder.flowId}`}, 0))`);
      return fn(tx);
    });
  }

  /**
   * Frees the slots of executions that ended without releasing them (their process died after the end
   * was stored), then moves the oldest queued executions into the free slots. Returns their ids.
   */
  private async promote(tx: Tx, holder: SlotHolder, limit: number): Promise<string[]> {
    const ended = tx
      .select({ id: executions.id })
      .from(executions)
      .where(and(eq(executions.namespace, holder.namespace), eq(executions.flowId, holder.flowId), inArray(executions.state, TERMINAL_STATES)));
    await tx
      .delete(concurrencySlots)
      .where(and(eq(concurrencySlots.namespace, holder.namespace), eq(concurrencySlots.flowId, holder.flowId), inArray(concurrencySlots.executionId, ended)));
    const { running, queued } = await this.counts(tx, holder);
    const free = limit - running;
    if (free <= 0 || queued === 0) return [];
    const next = await tx
      .select({ id: concurrencySlots.executionId })
      .from(concurrencySlots)
      .where(and(eq(concurrencySlots.namespace, holder.namespace), eq(concurrencySlots.flowId, holder.flowId), eq(concurrencySlots.status, 'QUEUED')))
      .orderBy(asc(concurrencySlots.seq))
      .limit(free);
    const ids = next.map((row) => row.id);
    if (ids.length) {
      await tx.update(concurrencySlots).set({ status: 'RUNNING' }).where(inArray(concurrencySlots.executionId, ids));
      // Delivered at commit to every process; the one running each execution wakes it.
      for (let i = 0; i < ids.length; i += IDS_PER_NOTIFY) {
        await tx.execute(sql`select pg_notify(${SLOT_CHANNEL}, ${ids.slice(i, i + IDS_PER_NOTIFY).join(',')})`);
      }
    }
    return ids;
  }

  private async counts(tx: Tx, holder: SlotHolder): Promise<{ running: number; queued: number }> {
    const rows = await tx
      .select({ status: concurrencySlots.status, n: sql<number>`count(*)::int` })
      .from(concurrencySlots)
      .where(and(eq(concurrencySlots.namespace, holder.namespace), eq(concurrencySlots.flowId, holder.flowId)))
      .groupBy(concurrencySlots.status);
    const of = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
    return { running: of('RUNNING'), queued: of('QUEUED') };
  }

  private async insert(tx: Tx, holder: SlotHolder, status: 'RUNNING' | 'QUEUED'): Promise<void> {
    await tx.insert(concurrencySlots).values({ executionId: holder.id, namespace: holder.namespace, flowId: holder.flowId, status });
  }

  private async statusOf(executionId: string): Promise<string | undefined> {
    const [row] = await this.db.select({ status: concurrencySlots.status }).from(concurrencySlots).where(eq(concurrencySlots.executionId, executionId));
    return row?.status;
  }

  /** Subscribes once; without LISTEN (or if it fails) queued executions still find their slot by polling. */
  private listenOnce(): Promise<unknown> {
    const listen = this.options.listen;
    if (!listen) return Promise.resolve();
    this.listening ??= listen(SLOT_CHANNEL, (payload) => this.wake(payload.split(','))).catch(() => undefined);
    return this.listening;
  }

  private wake(ids: readonly string[]): void {
    for (const id of ids) this.waiters.get(id)?.();
  }
}
