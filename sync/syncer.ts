import { isNull, sql } from 'drizzle-orm';
import type { Limits } from '../config/index.ts';
import type { Db } from '../db/index.ts';
import { syncRequests } from '../db/index.ts';
import type { SyncConfig } from './config.ts';
import type { GitSource } from './git/index.ts';
import { syncOnce, ValidationCache, type SyncOutcome } from './pipeline.ts';
import type { RecordOutcome, SyncRequestRecord } from './webhooks/index.ts';

export type SyncLog = (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;

/**
 * Runs syncs one at a time and coalesces bursts: any number of requests made while a sync runs
 * lead to exactly one more sync, of the newest head. Push deliveries are stored in
 * `sync_requests` before the webhook answers, so a crash between the two loses nothing.
 */
export class Syncer {
  private requested = 0;
  private completed = 0;
  private running = false;
  private readonly reasons = new Set<string>();
  private readonly waiters: { generation: number; resolve: (o: SyncOutcome) => void; reject: (e: unknown) => void }[] = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly cache: ValidationCache;
  private stopped = false;
  private last: SyncOutcome | undefined;

  constructor(
    private readonly deps: { db: Db; source: GitSource; config: SyncConfig; branch: string; log?: SyncLog; limits?: Limits },
  ) {
    this.cache = new ValidationCache(deps.limits);
  }

  /** Stores a verified push delivery once (a replayed delivery id is a duplicate) and asks for a sync. */
  async recordRequest(request: SyncRequestRecord): Promise<RecordOutcome> {
    const inserted = await this.deps.db
      .insert(syncRequests)
      .values({ provider: request.provider, deliveryId: request.deliveryId ?? null, ref: request.ref ?? null, afterSha: request.after ?? null })
      .onConflictDoNothing()
      .returning({ id: syncRequests.id });
    if (inserted.length === 0) return 'duplicate';
    void this.request('webhook').catch(() => undefined);
    return 'recorded';
  }

  /**
   * Stores a verified push delivery as already processed, without asking for a sync (its commit is
   * live): a later delivery with its id is still known as a duplicate. False when the id was stored before.
   */
  async recordProcessedRequest(request: SyncRequestRecord): Promise<boolean> {
    const inserted = await this.deps.db
      .insert(syncRequests)
      .values({ provider: request.provider, deliveryId: request.deliveryId ?? null, ref: request.ref ?? null, afterSha: request.after ?? null, processedAt: sql`now()` })
      .onConflictDoNothing()
      .returning({ id: syncRequests.id });
    return inserted.length > 0;
  }

  /** Resolves with the outcome of a sync that started after this call. */
  request(reason: string): Promise<SyncOutcome> {
    const generation = ++this.requested;
    this.reasons.add(reason);
    const promise = new Promise<SyncOutcome>((resolve, reject) => this.waiters.push({ generation, resolve, reject }));
    if (!this.running) void this.loop();
    return promise;
  }

  /** True while a sync runs or one is requested: a commit fetched now may not be what is live. */
  get busy(): boolean {
    return this.running || this.completed < this.requested;
  }

  /** The branch being synced. */
  get branch(): string {
    return this.deps.branch;
  }

  /** The repository URL without credentials. */
  get repository(): string {
    return this.deps.source.displayUrl;
  }

  /** The newest outcome, if any sync ran in this process. */
  get lastOutcome(): SyncOutcome | undefined {
    return this.last;
  }

  /** Initial sync, then pending deliveries, then the fallback poll. */
  async start(): Promise<SyncOutcome> {
    const first = await this.request('startup');
    const seconds = this.deps.config.pollSeconds;
    if (seconds > 0 && !this.stopped) {
      this.pollTimer = setInterval(() => void this.request('poll').catch(() => undefined), seconds * 1000);
      this.pollTimer.unref();
    }
    return first;
  }

  /** Stops polling; resolves once the sync in flight (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    while (this.running) await new Promise((r) => setTimeout(r, 10));
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.completed < this.requested) {
        const target = this.requested;
        const reason = [...this.reasons].join('+');
        this.reasons.clear();
        try {
          // Every delivery recorded so far is covered by this sync: mark them processed.
          await this.deps.db.update(syncRequests).set({ processedAt: sql`now()` }).where(isNull(syncRequests.processedAt));
          const outcome = await syncOnce({ ...this.deps, cache: this.cache }, reason);
          this.last = outcome;
          this.logOutcome(outcome);
          this.completed = target;
          this.settle(target, (w) => w.resolve(outcome));
        } catch (err) {
          this.completed = target;
          this.deps.log?.('error', `sync failed: ${(err as Error).message}`);
          this.settle(target, (w) => w.reject(err));
        }
      }
    } finally {
      this.running = false;
    }
  }

  private settle(upTo: number, fn: (w: (typeof this.waiters)[number]) => void): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].generation <= upTo) fn(this.waiters.splice(i, 1)[0]);
    }
  }

  private logOutcome(o: SyncOutcome): void {
    const log = this.deps.log;
    if (!log) return;
    const sha = o.commit?.sha.slice(0, 12);
    for (const w of o.warnings) log('warn', `${w.path}: ${w.message}`);
    if (o.result === 'APPLIED') log('info', `applied ${sha}`, { ...o.changes, durationMs: o.durationMs });
    else if (o.result === 'REFUSED') log('warn', `refused ${sha}: ${o.errors.length} problem(s); the last good commit stays live`, { errors: o.errors });
    else if (o.result === 'ERROR') log('error', `fetch failed (${o.errorKind}): ${o.errors[0]?.message}`);
  }
}
