/**
 * The work queue: unfinished executions in PostgreSQL, claimed by the processes that run them.
 *
 * A claim is a lease on the execution row: its owner, an expiry renewed by heartbeat, and a fencing
 * token incremented by every claim. Workers claim with `FOR UPDATE SKIP LOCKED`, so any number of them
 * share one database without waiting on each other; LISTEN/NOTIFY wakes them when work arrives (a poll
 * is the fallback). An execution whose lease expired — its process died or hung — is claimable again,
 * and the new claim's token fences the old holder out: every write of a run checks its token in the
 * same statement (ExecutionRepository.saveBatch), so a worker that lost its lease can never commit a result. Terminal executions are never
 * claimable, so nothing runs again after it ended or was killed.
 *
 * A lease is let go when its run ends or is handed back; one that expired instead means its process
 * crashed or hung. Claims count those (`interruptions`), so the engine can fail an execution that keeps
 * killing whoever runs it instead of resuming it forever (poison containment, Engine.runClaimed).
 */
import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { executions, type Db } from '../../db/index.ts';
import { STATES, isTerminal } from '../state.ts';

/** A held claim on one execution. */
export interface Lease {
  executionId: string;
  owner: string;
  /** The fencing token of this claim. */
  token: number;
  /** The execution row as the claim left it (claimNext), so the runner need not read it again. */
  row?: typeof executions.$inferSelect;
  /** Times the execution's runners died or hung holding it, this claim's finding included. */
  interruptions?: number;
}

/** The lease is gone (expired and taken over, handed back, or the execution ended elsewhere). */
export class LeaseLostError extends Error {
  constructor(readonly lease: Lease) {
    super(`lease on execution ${lease.executionId} (token ${lease.token}) was lost by ${lease.owner}`);
    this.name = 'LeaseLostError';
  }
}

/** Channel on which new work is announced (payload: the execution id, or empty). */
export const WORK_CHANNEL = 'baton_work';
/** Channel on which ended executions are announced (payload: the execution id). */
export const ENDED_CHANNEL = 'baton_execution_ended';

export const DEFAULT_LEASE_MS = 30_000;

/** How long notifications wait to be sent together (see WorkQueue.notify). */
const NOTIFY_BATCH_MS = 3;
/** PostgreSQL caps a NOTIFY payload at 8000 bytes; ids are ~22 characters. */
const MAX_PAYLOAD_CHARS = 7_000;

/** Comma-joined ids in payloads under PostgreSQL's size cap. */
function payloads(ids: string[]): string[] {
  const out: string[] = [];
  let current = '';
  for (const id of ids) {
    if (current && current.length + id.length + 1 > MAX_PAYLOAD_CHARS) {
      out.push(current);
      current = '';
    }
    current = current ? `${current},${id}` : id;
  }
  out.push(current);
  return out;
}

const UNFINISHED = STATES.filter((s) => !isTerminal(s));

export interface WorkQueueOptions {
  /** How long a lease lasts without a heartbeat (default 30 s; heartbeats come every third of it). */
  leaseMs?: number;
  listen?: (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>;
}

export class WorkQueue {
  readonly leaseMs: number;

  constructor(
    private readonly db: Db,
    private readonly options: WorkQueueOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  private expiry() {
    return sql`now() + ${`${this.leaseMs} milliseconds`}::interval`;
  }

  /** Claimable: unfinished, and nobody holds a live lease on it. */
  private claimable() {
    return and(inArray(executions.state, UNFINISHED), or(isNull(executions.leaseExpiresAt), lt(executions.leaseExpiresAt, sql`now()`)))!;
  }

  /**
   * What a claim sets. A lease still set on a claimable row expired (a let-go lease is null), so its
   * holder died or hung: counted in the same statement, at no extra round trip. A pending kill request
   * stays set, for the new holder to honour (a stuck process could not).
   */
  private claimSet(owner: string) {
    return {
      leaseOwner: owner,
      leaseToken: sql`${executions.leaseToken} + 1`,
      leaseExpiresAt: this.expiry(),
      interruptions: sql`${executions.interruptions} + (${executions.leaseExpiresAt} is not null)::int`,
    };
  }

  /** Claims one execution (the one this process just created, or a subflow it starts); undefined when someone holds it or it ended. */
  async claim(executionId: string, owner: string): Promise<Lease | undefined> {
    const [row] = await this.db
      .update(executions)
      .set(this.claimSet(owner))
      .where(and(eq(executions.id, executionId), this.claimable()))
      .returning({ token: executions.leaseToken, interruptions: executions.interruptions });
    return row ? { executionId, owner, token: row.token, interruptions: row.interruptions } : undefined;
  }

  /**
   * Claims up to `max` claimable executions, oldest first, skipping rows other claimers hold locked:
   * new work and the work of processes whose lease expired.
   */
  async claimNext(owner: string, max: number): Promise<Lease[]> {
    if (max <= 0) return [];
    const candidates = this.db
      .select({ id: executions.id })
      .from(executions)
      .where(this.claimable())
      .orderBy(executions.createdAt)
      .limit(max)
      .for('update', { skipLocked: true });
    const rows = await this.db
      .update(executions)
      .set(this.claimSet(owner))
      .where(inArray(executions.id, candidates))
      .returning();
    return rows.map((row) => ({ executionId: row.id, owner, token: row.leaseToken, row, interruptions: row.interruptions }));
  }

  /**
   * Extends a lease (the heartbeat). `held: false` when it is lost (taken over, or the execution ended
   * elsewhere, e.g. killed as an orphan); `killRequested` when someone asked to kill it.
   */
  async renew(lease: Lease): Promise<{ held: boolean; killRequested: boolean }> {
    const [row] = await this.db
      .update(executions)
      .set({ leaseExpiresAt: this.expiry() })
      .where(and(eq(executions.id, lease.executionId), eq(executions.leaseToken, lease.token), inArray(executions.state, UNFINISHED)))
      .returning({ killRequested: executions.killRequested });
    return row ? { held: true, killRequested: row.killRequested } : { held: false, killRequested: false };
  }

  /**
   * Lets the lease go. `handBack`: the run was stopped unfinished (a worker shutting down), so the
   * execution is claimable at once by another worker, and the ones listening are told.
   */
  async release(lease: Lease, options: { handBack?: boolean } = {}): Promise<void> {
    await this.db
      .update(executions)
      .set({ leaseOwner: null, leaseExpiresAt: null })
      .where(and(eq(executions.id, lease.executionId), eq(executions.leaseToken, lease.token)));
    if (options.handBack) await this.announce(lease.executionId);
  }

  /**
   * Marks a kill request for an execution running elsewhere. Resolves to whether a live lease holds it
   * (its runner will kill it; a stuck one's next claimer will); false means nobody runs it and the
   * caller ends it itself (ExecutionRepository.endExecution, fenced as an orphan).
   */
  async requestKill(executionId: string): Promise<boolean> {
    const [row] = await this.db
      .update(executions)
      .set({ killRequested: true })
      .where(and(eq(executions.id, executionId), inArray(executions.state, UNFINISHED), sql`${executions.leaseExpiresAt} >= now()`))
      .returning({ id: executions.id });
    return row !== undefined;
  }

  /** Every lease expires now: a single-process database reopened after a crash has no other runner alive. */
  async expireAll(): Promise<number> {
    const rows = await this.db
      .update(executions)
      .set({ leaseExpiresAt: sql`now() - interval '1 millisecond'` })
      .where(and(inArray(executions.state, UNFINISHED), sql`${executions.leaseExpiresAt} is not null`))
      .returning({ id: executions.id });
    return rows.length;
  }

  /** Tells the workers there is work (NOTIFY; batched, see `notify`). */
  announce(executionId = ''): Promise<void> {
    return this.notify(WORK_CHANNEL, executionId);
  }

  /** Tells whoever waits that an execution ended (webhook `wait`, the API's `wait`, SSE on another server). */
  announceEnded(executionId: string): Promise<void> {
    return this.notify(ENDED_CHANNEL, executionId);
  }

  private readonly pendingNotes = new Map<string, { ids: Set<string>; sent: Promise<void> }>();

  /**
   * Notifications of one channel within a few milliseconds go out as one NOTIFY with their ids
   * comma-separated. PostgreSQL serializes the commits of notifying transactions (one global queue
   * lock, held through the commit's WAL flush), so one NOTIFY per execution would cap throughput at
   * the disk's flush rate; batched, a burst costs a handful.
   */
  private notify(channel: string, id: string): Promise<void> {
    let pending = this.pendingNotes.get(channel);
    if (!pending) {
      const ids = new Set<string>();
      const sent = new Promise<void>((resolve) => setTimeout(resolve, NOTIFY_BATCH_MS)).then(async () => {
        this.pendingNotes.delete(channel);
        for (const payload of payloads([...ids])) await this.db.execute(sql`select pg_notify(${channel}, ${payload})`);
      });
      pending = { ids, sent };
      this.pendingNotes.set(channel, pending);
    }
    pending.ids.add(id);
    return pending.sent;
  }

  /** LISTEN on a channel; resolves to the unsubscribe (a no-op without a `listen`). */
  async subscribe(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    if (!this.options.listen) return async () => {};
    return this.options.listen(channel, onPayload);
  }

  /** How many executions wait for a worker or run now, by lease status (metrics, the capacity model). */
  async backlog(): Promise<{ waiting: number; leased: number }> {
    const [row] = await this.db
      .select({
        waiting: sql<number>`count(*) filter (where ${executions.leaseExpiresAt} is null or ${executions.leaseExpiresAt} < now())::int`,
        leased: sql<number>`count(*) filter (where ${executions.leaseExpiresAt} >= now())::int`,
      })
      .from(executions)
      .where(inArray(executions.state, UNFINISHED));
    return { waiting: Number(row?.waiting ?? 0), leased: Number(row?.leased ?? 0) };
  }
}
