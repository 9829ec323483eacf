import { DEFAULT_LIMITS, LimitExceededError, type Limits } from '../../config/index.ts';
import type { LogLevel } from '../logs/types.ts';
import type { TaskContext, TaskLogger } from '../plugins/types.ts';
import type { OutputStream } from '../runners/index.ts';
import { parseProtocolLine, type ScriptMetric } from './output-protocol.ts';

/**
 * Level of an ordinary stderr line. Kestra logged stderr as WARN until its log-line matcher rewrite
 * and logs it as ERROR since; Baton follows current Kestra.
 */
export const STDERR_LOG_LEVEL: LogLevel = 'ERROR';

/**
 * What Kestra's DefaultLogConsumer does with a script's output: text lines become log lines
 * (stdout INFO, stderr ERROR), protocol lines feed `vars`, metrics and extra log lines.
 * Lines are counted per stream, protocol lines included, as Kestra counts them for `warningOnStdErr`.
 *
 * Output past `limits.taskLogBytes` (line terminators counted, both streams together) is not logged:
 * `exceeded` is set, `onLimit` is called once (the caller stops the command), and later lines are dropped.
 *
 * With `maskLines`, text lines go through one line masker (a secret printed across two consecutive
 * lines is masked); a line may then be held until the next one, so `end()` must be called once the
 * command has ended.
 */
export class ScriptLogConsumer {
  stdoutLines = 0;
  stderrLines = 0;
  /** Outputs sent through the protocol; a later line replaces a top-level key (Kestra's `putAll`). */
  readonly vars: Record<string, unknown> = {};
  readonly metrics: ScriptMetric[] = [];
  /** Bytes of output received so far, as UTF-8 with one byte per line terminator. */
  outputBytes = 0;
  /** Set once the output went past `taskLogBytes`. */
  exceeded: LimitExceededError | undefined;

  constructor(
    private readonly logger: TaskLogger,
    private readonly options: { limits?: Limits; onLimit?: (error: LimitExceededError) => void; maskLines?: TaskContext['maskLines'] } = {},
  ) {
    this.lines = options.maskLines?.<LogLevel>((level, masked) => this.logger.log(level, masked));
  }

  private readonly lines: { push(level: LogLevel, line: string): void; end(): void } | undefined;

  /** Logs what is still held back (see `maskLines`). */
  end(): void {
    this.lines?.end();
  }

  private text(level: LogLevel, line: string): void {
    if (this.lines) this.lines.push(level, line);
    else this.logger.log(level, line);
  }

  accept(stream: OutputStream, line: string): void {
    if (this.exceeded) return;
    const limits = this.options.limits ?? DEFAULT_LIMITS;
    this.outputBytes += Buffer.byteLength(line, 'utf8') + 1;
    if (this.outputBytes > limits.taskLogBytes) {
      this.exceeded = new LimitExceededError('taskLogBytes', 'Command stopped, its log output', limits);
      this.options.onLimit?.(this.exceeded);
      return;
    }
    if (stream === 'stderr') this.stderrLines++;
    else this.stdoutLines++;
    const parsed = parseProtocolLine(line);
    switch (parsed.kind) {
      case 'text':
        this.text(stream === 'stderr' ? STDERR_LOG_LEVEL : 'INFO', line);
        return;
      case 'invalid':
        // Kept as text so nothing the script printed is lost, with the reason it was not applied.
        this.text(stream === 'stderr' ? STDERR_LOG_LEVEL : 'INFO', line);
        this.end();
        this.logger.warn(`Invalid outputs '${parsed.reason}'`);
        return;
      case 'message':
        // Lines held back go first, in order.
        this.end();
        Object.assign(this.vars, parsed.message.outputs);
        this.metrics.push(...parsed.message.metrics);
        for (const entry of parsed.message.logs) this.logger.log(entry.level, entry.message);
        return;
    }
  }
}
