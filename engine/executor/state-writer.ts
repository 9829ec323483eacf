import { isTransientDatabaseError, retryTransient } from '../../db/index.ts';
import type { Execution, TaskRun } from './model.ts';
import type { ExecutionRepository } from './repository.ts';
import { LeaseLostError, type Lease } from '../queue/index.ts';
import { isTerminal } from '../state.ts';

/**
 * How long changes wait to be written together. A task's start and end within this window cost one
 * write instead of two (a shell task's command usually ends in a few milliseconds); flush() never waits
 * for it. On the embedded database every write also holds this thread, so fewer matter twice.
 */
const WRITE_BEHIND_MS = 5;

/**
 * Write-behind for one execution's state: changes are marked, then written in batches (one
 * statement for every task run changed since the last write), one batch at a time. A 40-task
 * flow would otherwise pay three round trips per task. `flush()` waits until all is stored.
 */
export class StateWriter {
  private readonly dirtyRuns = new Map<string, TaskRun>();
  private executionDirty = false;
  private running: Promise<void> | undefined;
  private failure: unknown;

  /** A leased run's lease (see engine/queue): every batch is written only while its token holds. */
  private fence: { lease: Lease; leaseMs: number } | undefined;
  /** Set once the fence refused a batch: this process no longer owns the execution and writes nothing more. */
  private fencedOut = false;
  private onFencedOut: ((error: unknown) => void) | undefined;
  private onFailed: ((error: unknown, refused: readonly TaskRunWrite[]) => void) | undefined;

  /**
   * Set once the end was stored. Under a fence that write let the lease go, and later writes
   * (afterExecution tasks) keep it let go instead of renewing it; only that write marks the end due
   * for Flow triggers.
   */
  private endWritten = false;

  constructor(
    private readonly repository: ExecutionRepository,
    private readonly execution: Execution,
    private readonly seqOf: (run: TaskRun) => number,
    /**
     * Whether Flow triggers may react to the end: then its write marks it due (see
     * ExecutionRepository.saveBatch), and `marked` is told once that write is stored.
     */
    private readonly flowTriggers: { watching(): boolean; marked(): void } = { watching: () => false, marked: () => {} },
  ) {}

  /** Fences every later write; `onFencedOut` is called once when a write is refused (the lease is lost). */
  useFence(fence: { lease: Lease; leaseMs: number }, onFencedOut: (error: unknown) => void): void {
    this.fence = fence;
    this.onFencedOut = onFencedOut;
  }

  /**
   * `onFailed` is called once when a write fails for good: the database refused it (never retried: it
   * would fail the same way) or stayed unreachable past the retries. Nothing is written after it, and
   * every later flush() rethrows it: the lost batch held changes later ones build on. Of a refused
   * batch, every task run the database accepts on its own is stored first; `refused` are the others.
   */
  onFailure(onFailed: (error: unknown, refused: readonly TaskRunWrite[]) => void): void {
    this.onFailed = onFailed;
  }

  /** Writes nothing from now on (the run was abandoned). */
  fenceOff(): void {
    this.fencedOut = true;
    this.dirtyRuns.clear();
    this.executionDirty = false;
  }

  /** Whether the execution's end is stored (later writes are only `afterExecution` tasks). */
  get endStored(): boolean {
    return this.endWritten;
  }

  /** Whether a stored write has let the lease go already (the execution ended): no release is needed. */
  get leaseEnded(): boolean {
    return this.fence !== undefined && this.endWritten;
  }

  markTaskRun(run: TaskRun): void {
    if (this.fencedOut) return;
    this.dirtyRuns.set(run.id, run);
    this.schedule();
  }

  markExecution(): void {
    if (this.fencedOut) return;
    this.executionDirty = true;
    this.schedule();
  }

  /** Resolves once every change marked so far is in the database; rethrows the write that failed, if one did. */
  async flush(): Promise<void> {
    // A batch waiting for its window is written now: whoever flushes waits for it.
    this.writeNow?.();
    while (this.running || this.dirtyRuns.size || this.executionDirty) {
      if (!this.running) this.running = this.writeBatch();
      await this.running;
    }
    if (this.failure) throw this.failure;
  }

  /** Ends the wait of the batch scheduled and not yet started, if any. */
  private writeNow: (() => void) | undefined;

  private schedule(): void {
    if (this.running) return;
    // Let the changes of the next few milliseconds pile up, then write them together.
    this.running = new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.writeNow?.(), WRITE_BEHIND_MS);
      this.writeNow = () => {
        this.writeNow = undefined;
        clearTimeout(timer);
        resolve();
      };
    }).then(() => this.writeBatch());
  }

  private async writeBatch(): Promise<void> {
    // Snapshot: changes marked while this batch is written go into the next one.
    const runs = [...this.dirtyRuns.values()].map((run) => ({ taskRun: snapshotRun(run), seq: this.seqOf(run) }));
    const fence = this.fence && { ...this.fence, endLease: this.endWritten };
    try {
      this.dirtyRuns.clear();
      const writeExecution = this.executionDirty;
      this.executionDirty = false;
      // Task runs first, the execution row last: whoever reads a terminated execution then finds its
      // task runs terminated too. (The row exists already: the engine stores it before the run starts,
      // so the task runs' foreign key holds.)
      const execution = writeExecution ? { ...this.execution, taskRunList: [] } : undefined;
      // Upserts by id: repeating one after a dropped connection is safe, and a restart of the database
      // must not fail the execution.
      const ends = execution !== undefined && isTerminal(execution.state.current);
      const flowTriggersDue = ends && !this.endWritten && this.flowTriggers.watching();
      await retryTransient(() => this.repository.saveBatch(runs, execution, fence && { ...fence, endLease: fence.endLease || ends }, { flowTriggersDue }));
      if (ends) this.endWritten = true;
      if (flowTriggersDue) this.flowTriggers.marked();
    } catch (err) {
      if (err instanceof LeaseLostError) {
        // Another process owns the execution now: drop everything, say so once, never fail the flush.
        this.fencedOut = true;
        this.dirtyRuns.clear();
        this.executionDirty = false;
        this.onFencedOut?.(err);
      } else if (!this.failure) {
        this.failure = err;
        this.fencedOut = true;
        this.dirtyRuns.clear();
        this.executionDirty = false;
        let refused: TaskRunWrite[] = [];
        if (runs.length && !isTransientDatabaseError(err)) {
          // Whatever else the batch held is kept: the record shows what ran, and which task run's state
          // the database would not take.
          refused = await this.storeAccepted(runs, fence).catch(() => []);
        }
        this.onFailed?.(err, refused);
      }
    } finally {
      this.running = undefined;
      if (this.dirtyRuns.size || this.executionDirty) this.schedule();
    }
  }

  /**
   * After the database refused a batch: its task runs written again in halves, down to single task
   * runs, so every one it accepts is stored; resolves to those it refuses on their own. Upserts, so
   * writing one twice is harmless; a few statements per refused task run, on a path taken once.
   */
  private async storeAccepted(runs: readonly TaskRunWrite[], fence: { lease: Lease; leaseMs: number; endLease?: boolean } | undefined): Promise<TaskRunWrite[]> {
    try {
      await retryTransient(() => this.repository.saveBatch(runs, undefined, fence));
      return [];
    } catch (error) {
      if (error instanceof LeaseLostError || isTransientDatabaseError(error)) throw error;
      if (runs.length === 1) return [...runs];
    }
    const half = runs.length >> 1;
    return [...(await this.storeAccepted(runs.slice(0, half), fence)), ...(await this.storeAccepted(runs.slice(half), fence))];
  }
}

/** A task run as written: a copy of it, and its place in the execution's list. */
export interface TaskRunWrite {
  taskRun: TaskRun;
  seq: number;
}

/** States are replaced, never mutated (see state.ts); only the attempts list grows in place. */
function snapshotRun(run: TaskRun): TaskRun {
  return { ...run, attempts: run.attempts.map((a) => ({ ...a })) };
}
