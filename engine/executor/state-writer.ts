import type { Execution, TaskRun } from './model.ts';
import type { ExecutionRepository } from './repository.ts';

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

  constructor(
    private readonly repository: ExecutionRepository,
    private readonly execution: Execution,
    private readonly seqOf: (run: TaskRun) => number,
  ) {}

  markTaskRun(run: TaskRun): void {
    this.dirtyRuns.set(run.id, run);
    this.schedule();
  }

  markExecution(): void {
    this.executionDirty = true;
    this.schedule();
  }

  /** Resolves once every change marked so far is in the database; rethrows a failed write. */
  async flush(): Promise<void> {
    while (this.running || this.dirtyRuns.size || this.executionDirty) {
      if (!this.running) this.running = this.writeBatch();
      await this.running;
    }
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
  }

  private schedule(): void {
    if (this.running) return;
    // Let the current synchronous burst of changes pile up, then write them together.
    this.running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.writeBatch());
  }

  private async writeBatch(): Promise<void> {
    try {
      // Snapshot: changes marked while this batch is written go into the next one.
      const runs = [...this.dirtyRuns.values()].map((run) => ({ taskRun: snapshotRun(run), seq: this.seqOf(run) }));
      this.dirtyRuns.clear();
      const writeExecution = this.executionDirty;
      this.executionDirty = false;
      // Task runs first, the execution row last: whoever reads a terminated execution then finds its
      // task runs terminated too. (The row exists already: the engine stores it before the run starts,
      // so the task runs' foreign key holds.)
      await this.repository.saveTaskRuns(runs);
      if (writeExecution) await this.repository.saveExecution({ ...this.execution, taskRunList: [] });
    } catch (err) {
      this.failure ??= err;
    } finally {
      this.running = undefined;
      if (this.dirtyRuns.size || this.executionDirty) this.schedule();
    }
  }
}

/** States are replaced, never mutated (see state.ts); only the attempts list grows in place. */
function snapshotRun(run: TaskRun): TaskRun {
  return { ...run, attempts: run.attempts.map((a) => ({ ...a })) };
}
