/**
 * A worker: claims unfinished executions from the work queue and runs them, up to `threads` at a time.
 * New work wakes it through NOTIFY; a poll finds what a missed notification or an expired lease (a
 * crashed process) left. On stop it claims nothing more, lets running executions finish within a grace
 * period, then hands the rest back unfinished: their leases are released at once so another worker
 * resumes them (the interrupted task runs are resubmitted there).
 *
 * An execution whose earlier runners died or hung holding it more than `limits.executionCrashes`
 * times is not resumed but failed (Engine.runClaimed); that, and every execution failed for a fault
 * rather than a task (a write the database refused), is said once in the worker's log.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Engine } from '../executor/index.ts';
import { WORK_CHANNEL, type Lease } from '../queue/index.ts';

export type WorkerLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface WorkerOptions {
  engine: Engine;
  /** Executions run at once (BATON_WORKER_THREADS; default 8). */
  threads?: number;
  /** How often the queue is polled without a notification (default 1 s). */
  pollMs?: number;
  log?: WorkerLog;
}

/** A lease owner id that says where the process runs: `host:pid:random`. */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

interface InFlight {
  lease: Lease;
  done: Promise<unknown>;
}

export class Worker {
  private readonly inFlight = new Map<string, InFlight>();
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private unwatchFailures: (() => void) | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  readonly threads: number;

  constructor(private readonly options: WorkerOptions) {
    this.threads = Math.max(1, options.threads ?? 8);
    if (!options.engine.role.leaseOwner) throw new Error('a worker needs an engine with a lease owner (EngineRole.leaseOwner)');
  }

  get owner(): string {
    return this.options.engine.role.leaseOwner!;
  }

  /** How many executions run here now. */
  get running(): number {
    return this.inFlight.size;
  }

  async start(): Promise<void> {
    const { engine, log } = this.options;
    this.unwatchFailures ??= engine.onRunFailure((executionId, reason) => log?.('error', `worker ${this.owner}: execution ${executionId} failed: ${reason}`));
    const queue = engine.resources.queue;
    this.unlisten = await queue.subscribe(WORK_CHANNEL, () => this.wake()).catch(() => undefined);
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 1000);
    this.timer.unref();
    this.wake();
  }

  /** Claims work until the threads are busy or the queue is empty (coalesced: one pump at a time). */
  wake(): void {
    if (this.stopping) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((error: unknown) => this.options.log?.('warn', `worker ${this.owner}: claiming failed: ${(error as Error).message}`))
      .finally(() => {
        this.pumping = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async pump(): Promise<void> {
    const { engine } = this.options;
    while (!this.stopping) {
      // Executions waiting for a concurrency slot hold no thread: they only wait.
      const busy = [...this.inFlight.keys()].filter((id) => engine.runningExecution(id)?.state.current !== 'QUEUED').length;
      const free = this.threads - busy;
      if (free <= 0) return;
      const leases = await engine.resources.queue.claimNext(this.owner, free);
      if (leases.length === 0) return;
      for (const lease of leases) this.launch(lease);
    }
  }

  private launch(lease: Lease): void {
    const done = this.options.engine
      .runClaimed(lease)
      .catch((error: unknown) => this.options.log?.('error', `worker ${this.owner}: execution ${lease.executionId} crashed: ${(error as Error).message}`))
      .finally(() => {
        this.inFlight.delete(lease.executionId);
        this.wake();
      });
    this.inFlight.set(lease.executionId, { lease, done });
  }

  /**
   * Stops claiming; waits up to `graceMs` for running executions to end; hands back the others (their
   * tasks are stopped here and resubmitted by the worker that claims them next).
   */
  async stop(graceMs = 30_000): Promise<{ finished: number; handedBack: number }> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.unwatchFailures?.();
    this.unwatchFailures = undefined;
    await this.unlisten?.().catch(() => undefined);
    await this.pumping;
    const running = [...this.inFlight.values()];
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((resolve) => (timer = setTimeout(() => resolve('grace'), graceMs)));
    await Promise.race([Promise.allSettled(running.map((r) => r.done)), graceOver]);
    clearTimeout(timer);
    const left = [...this.inFlight.values()];
    const { engine } = this.options;
    for (const { lease } of left) engine.abandon(lease.executionId, 'its worker is shutting down');
    await Promise.allSettled(left.map((r) => r.done));
    for (const { lease } of left) await engine.resources.queue.release(lease, { handBack: true }).catch(() => undefined);
    return { finished: running.length - left.length, handedBack: left.length };
  }
}
