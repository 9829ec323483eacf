import { DEFAULT_LIMITS, type Limits } from '../../config/index.ts';
import { isTransientDatabaseError, retryTransient } from '../../db/index.ts';
import { newId } from '../ids.ts';
import { cutLine } from '../logs/line-cut.ts';
import { asciiEscaped, storableText } from '../logs/storable-text.ts';
import type { LogEntry, LogLevel } from '../logs/types.ts';
import type { TaskLogger } from '../plugins/types.ts';
import { childUri, executionPrefix, taskRunPrefix, type InternalStorage } from '../storage/index.ts';
import type { ExecutionRepository, StoredLogEntry } from './repository.ts';

export type LogListener = (entry: LogEntry) => void;

/** Called with each batch of lines once it is in the database, ids assigned, in id order. */
export type StoredLogListener = (entries: readonly StoredLogEntry[]) => void;

/** Lines the database refused: `lost` were not stored at all, the others were stored escaped. */
export class LogWriteError extends Error {
  override readonly name = 'LogWriteError';
  constructor(
    message: string,
    readonly lines: number,
    readonly lost: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type LogWriteFailureListener = (error: LogWriteError) => void;

/** The flow an execution's lines belong to: where a cut line is stored whole. */
export interface LogLocation {
  namespace: string;
  flowId: string;
}

export interface LogWriterOptions {
  maxBatch?: number;
  flushMs?: number;
  /** `logLineChars` cuts long lines; default the safe defaults. */
  limits?: Limits;
  /** Where a cut line is stored whole, its kestra:// URI in the marker (BATON_LOG_FULL_LINES); unset: not stored. */
  fullLines?: InternalStorage;
}

/** A refusal reason put in a stored marker: enough to act on, never a wall of text. */
const MAX_REASON_CHARS = 300;

const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/;

/**
 * Masks, fans out and batches log lines. Listeners see each line at once (live CLI output);
 * the database gets them in batches, because one INSERT per line would dominate short tasks.
 * Stored-log listeners see each batch after its INSERT, with the row ids a follower resumes from.
 *
 * One writer serves every execution of the process, so a batch mixes executions: nothing one of them
 * prints may make the batch fail. Text is made storable (storable-text.ts) and cut to
 * `limits.logLineChars` before it is buffered; a batch the database still refuses is split until the
 * refused line is alone, and that line is stored escaped with a marker. What cannot be stored at all
 * (the database unreachable past the retries) is reported to `onWriteFailure` listeners (else stderr).
 */
export class LogWriter {
  private buffer: LogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<LogListener>();
  private readonly storedListeners = new Set<StoredLogListener>();
  private readonly failureListeners = new Set<LogWriteFailureListener>();
  /** Whole lines being written to internal storage; a flush waits for them so no marker points to nothing. */
  private readonly pendingFiles = new Set<Promise<void>>();
  private readonly limits: Limits;

  constructor(
    private readonly repository: ExecutionRepository,
    private readonly mask: (text: string) => string,
    private readonly options: LogWriterOptions = {},
  ) {
    this.limits = options.limits ?? DEFAULT_LIMITS;
  }

  subscribe(listener: LogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Batches as they are stored. Batches are written one after the other, so ids only grow from one call to the next. */
  subscribeStored(listener: StoredLogListener): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  /** Lines that could not be stored as written (or at all). With no listener, they are reported on stderr. */
  onWriteFailure(listener: LogWriteFailureListener): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** Buffers one line; `location` lets a cut line be stored whole (see LogWriterOptions.fullLines). */
  write(entry: Omit<LogEntry, 'timestamp'> & { timestamp?: string }, location?: LogLocation): void {
    const masked = this.mask(entry.message);
    let message = storableText(masked);
    if (message.length > this.limits.logLineChars) message = cutLine(message, this.limits, this.storeWholeLine(entry, masked, location));
    const line: LogEntry = { ...entry, timestamp: entry.timestamp ?? new Date().toISOString(), message };
    for (const listener of this.listeners) listener(line);
    this.buffer.push(line);
    // Failures are reported where they happen (report()); the timer has no caller to tell.
    if (this.buffer.length >= (this.options.maxBatch ?? 500)) void this.flush().catch(() => undefined);
    else if (!this.timer) this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.options.flushMs ?? 100);
  }

  /** A logger bound to one task run attempt (or to the execution when taskRun is null). */
  logger(base: { executionId: string; taskRunId: string | null; taskId: string | null; attemptNumber: number | null }, location?: LogLocation): TaskLogger {
    const log = (level: LogLevel, message: string) => this.write({ ...base, level, message }, location);
    return {
      log,
      trace: (m) => log('TRACE', m),
      debug: (m) => log('DEBUG', m),
      info: (m) => log('INFO', m),
      warn: (m) => log('WARN', m),
      error: (m) => log('ERROR', m),
    };
  }

  /**
   * Writes everything buffered so far; resolves once it is in the database. Rejects (LogWriteError,
   * also reported) only when lines could not be stored at all.
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    const files = this.pendingFiles.size > 0 ? [...this.pendingFiles] : undefined;
    // One batch at a time, in order, so ids grow with time; a failed batch does not stop the next ones.
    const write = this.flushing.catch(() => undefined).then(async () => {
      if (files) await Promise.all(files);
      const tally: WriteTally = { lost: 0, escaped: 0 };
      await this.store(batch, tally);
      // One report per flush, however many lines: a database refusing everything must not flood stderr.
      if (tally.escaped > 0) {
        const first = tally.firstEscaped!;
        this.report(new LogWriteError(`${tally.escaped} log line(s) refused by the database were stored escaped (the first, of execution ${first.executionId}: ${first.reason})`, tally.escaped, false, { cause: first.cause }));
      }
      if (tally.lost > 0) {
        const first = tally.firstLost!;
        throw this.report(new LogWriteError(`${tally.lost} log line(s) could not be stored (the first of execution ${first.executionId}): ${first.reason}`, tally.lost, true, { cause: first.cause }));
      }
    });
    this.flushing = write;
    return write;
  }

  /**
   * Stores lines in one INSERT; when the database refuses it for its content, in halves, down to the
   * refused line alone, which is then stored escaped. What is not stored at all is counted in `tally`.
   */
  private async store(batch: readonly LogEntry[], tally: WriteTally): Promise<void> {
    if (batch.length === 0) return;
    // The database is gone (retries exhausted): the rest of this flush would only wait for it again.
    if (tally.unreachable) return lose(tally, batch, tally.unreachable);
    let stored: StoredLogEntry[];
    try {
      // A dropped connection is retried: a line may (rarely) be stored twice, never lost.
      stored = await retryTransient(() => this.repository.appendLogs(batch));
    } catch (error) {
      if (isTransientDatabaseError(error)) {
        tally.unreachable = error;
        return lose(tally, batch, error);
      }
      if (batch.length === 1) return this.storeEscaped(batch[0], error, tally);
      const half = Math.ceil(batch.length / 2);
      await this.store(batch.slice(0, half), tally);
      await this.store(batch.slice(half), tally);
      return;
    }
    this.notifyStored(stored);
  }

  /** The one line of a batch the database refused: stored with every unusual character escaped, and a marker saying so. */
  private async storeEscaped(entry: LogEntry, refusal: unknown, tally: WriteTally): Promise<void> {
    const reason = asciiEscaped(reasonOf(refusal)).slice(0, MAX_REASON_CHARS);
    const escaped: LogEntry = {
      ...entry,
      timestamp: ISO_TIMESTAMP.test(entry.timestamp) ? entry.timestamp : new Date().toISOString(),
      message: `${cutLine(asciiEscaped(entry.message), this.limits)} [stored escaped: the database refused this line as written: ${reason}]`,
    };
    try {
      this.notifyStored(await retryTransient(() => this.repository.appendLogs([escaped])));
    } catch (error) {
      if (isTransientDatabaseError(error)) tally.unreachable = error;
      return lose(tally, [entry], error);
    }
    tally.escaped++;
    tally.firstEscaped ??= { executionId: entry.executionId, reason, cause: refusal };
  }

  private notifyStored(stored: readonly StoredLogEntry[]): void {
    if (stored.length === 0) return;
    for (const listener of this.storedListeners) {
      try {
        listener(stored);
      } catch {
        // A listener's failure is its own; the log lines are stored.
      }
    }
  }

  private report(error: LogWriteError): LogWriteError {
    if (this.failureListeners.size === 0) console.error(`baton: ${error.message}`);
    for (const listener of this.failureListeners) {
      try {
        listener(error);
      } catch {
        // Reporting must not stop the writing.
      }
    }
    return error;
  }

  /**
   * With BATON_LOG_FULL_LINES, a line about to be cut is stored whole (masked) under its task run's
   * prefix; resolves at once to the URI the marker shows, the write goes on in the background.
   */
  private storeWholeLine(entry: Omit<LogEntry, 'timestamp'>, text: string, location: LogLocation | undefined): string | undefined {
    const storage = this.options.fullLines;
    if (!storage || !location) return undefined;
    let uri: string;
    try {
      const prefix = entry.taskRunId && entry.taskId
        ? taskRunPrefix(location.namespace, location.flowId, entry.executionId, entry.taskId, entry.taskRunId)
        : executionPrefix(location.namespace, location.flowId, entry.executionId);
      uri = childUri(prefix, 'logs', `${entry.attemptNumber ?? 0}-${newId()}.txt`);
    } catch {
      // An id no URI can hold: the line is cut without its whole copy.
      return undefined;
    }
    const pending: Promise<void> = storage.put(uri, Buffer.from(text, 'utf8')).then(
      () => undefined,
      (error: unknown) => {
        this.write({ ...entry, level: 'WARN', message: `The whole line cut above could not be stored at ${uri}: ${reasonOf(error)}` });
      },
    ).finally(() => this.pendingFiles.delete(pending));
    this.pendingFiles.add(pending);
    return uri;
  }
}

/** What one flush could not store as written, for its one report. */
interface WriteTally {
  lost: number;
  escaped: number;
  firstLost?: { executionId: string; reason: string; cause: unknown };
  firstEscaped?: { executionId: string; reason: string; cause: unknown };
  /** The transient error the retries gave up on: the database is unreachable for now. */
  unreachable?: unknown;
}

function lose(tally: WriteTally, lines: readonly LogEntry[], error: unknown): void {
  tally.lost += lines.length;
  tally.firstLost ??= { executionId: lines[0].executionId, reason: reasonOf(error), cause: error };
}

/**
 * The database's own reason: the driver's error under the query builder's, whose message repeats the
 * whole statement and its parameters (other executions' lines among them).
 */
function reasonOf(error: unknown): string {
  let root = error;
  for (let depth = 0; depth < 5 && root instanceof Error && root.cause instanceof Error; depth++) root = root.cause;
  return root instanceof Error ? root.message : String(root);
}
