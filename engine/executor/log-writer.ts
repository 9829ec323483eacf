import type { LogEntry, LogLevel } from '../logs/types.ts';
import type { TaskLogger } from '../plugins/types.ts';
import type { ExecutionRepository } from './repository.ts';

export type LogListener = (entry: LogEntry) => void;

/**
 * Masks, fans out and batches log lines. Listeners see each line at once (live CLI output, SSE);
 * the database gets them in batches, because one INSERT per line would dominate short tasks.
 */
export class LogWriter {
  private buffer: LogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<LogListener>();

  constructor(
    private readonly repository: ExecutionRepository,
    private readonly mask: (text: string) => string,
    private readonly options: { maxBatch?: number; flushMs?: number } = {},
  ) {}

  subscribe(listener: LogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  write(entry: Omit<LogEntry, 'timestamp'> & { timestamp?: string }): void {
    const line: LogEntry = { ...entry, timestamp: entry.timestamp ?? new Date().toISOString(), message: this.mask(entry.message) };
    for (const listener of this.listeners) listener(line);
    this.buffer.push(line);
    if (this.buffer.length >= (this.options.maxBatch ?? 500)) void this.flush();
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.options.flushMs ?? 100);
  }

  /** A logger bound to one task run attempt (or to the execution when taskRun is null). */
  logger(base: { executionId: string; taskRunId: string | null; taskId: string | null; attemptNumber: number | null }): TaskLogger {
    const log = (level: LogLevel, message: string) => this.write({ ...base, level, message });
    return {
      log,
      trace: (m) => log('TRACE', m),
      debug: (m) => log('DEBUG', m),
      info: (m) => log('INFO', m),
      warn: (m) => log('WARN', m),
      error: (m) => log('ERROR', m),
    };
  }

  /** Writes everything buffered so far; resolves once it is in the database. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(() => this.repository.appendLogs(batch));
    return this.flushing;
  }
}
