import { retryTransient } from '../../db/index.ts';
import type { LogEntry, LogLevel } from '../logs/types.ts';
import type { TaskLogger } from '../plugins/types.ts';
import type { ExecutionRepository, StoredLogEntry } from './repository.ts';

export type LogListener = (entry: LogEntry) => void;

/** Called with each batch of lines once it is in the database, ids assigned, in id order. */
export type StoredLogListener = (entries: readonly StoredLogEntry[]) => void;

/**
 * Masks, fans out and batches log lines. Listeners see each line at once (live CLI output);
 * the database gets them in batches, because one INSERT per line would dominate short tasks.
 * Stored-log listeners see each batch after its INSERT, with the row ids a follower resumes from.
 */
export class LogWriter {
  private buffer: LogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<LogListener>();
  private readonly storedListeners = new Set<StoredLogListener>();

  constructor(
    private readonly repository: ExecutionRepository,
    private readonly mask: (text: string) => string,
    private readonly options: { maxBatch?: number; flushMs?: number } = {},
  ) {}

  subscribe(listener: LogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Batches as they are stored. Batches are written one after the other, so ids only grow from one call to the next. */
  subscribeStored(listener: StoredLogListener): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  write(entry: Omit<LogEntry, 'timestamp'> & { timestamp?: string }): void {
    const line: LogEntry = { ...entry, timestamp: entry.timestamp ?? new Date().toISOString(), message: this.mask(entry.message) };
    for (const listener of this.listeners) listener(line);
    this.buffer.push(line);
    if (this.buffer.length >= (this.options.maxBatch ?? 500)) void this.flush().catch(() => undefined);
    else if (!this.timer) this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.options.flushMs ?? 100);
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

  /** Writes everything buffered so far; resolves once it is in the database (rejects if this batch failed). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    // One batch at a time, in order, so ids grow with time; a failed batch does not stop the next ones.
    const write = this.flushing.catch(() => undefined).then(async () => {
      // A dropped connection is retried: a line may (rarely) be stored twice, never lost.
      const stored = await retryTransient(() => this.repository.appendLogs(batch));
      if (stored.length === 0) return;
      for (const listener of this.storedListeners) {
        try {
          listener(stored);
        } catch {
          // A listener's failure is its own; the log lines are stored.
        }
      }
    });
    this.flushing = write;
    return write;
  }
}
