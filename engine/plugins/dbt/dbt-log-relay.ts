/**
 * dbt's structured log lines (`--log-format json`) turned into task log lines as Kestra's LogService
 * does: dbt's own level, a `[Date: …] [Thread: …] [Type: …] message` text, a warning remembered so the
 * task ends in WARNING, and the run's `stats` (pass, warn, error, skip, total) kept as counters.
 */
import type { LogLevel } from '../../logs/types.ts';
import type { ScriptMetric } from '../../scripts/index.ts';
import type { TaskLogger } from '../types.ts';

/** Keys of a dbt log event that the formatted line already shows or that only add noise. */
const SHOWN_OR_NOISE = new Set(['category', 'code', 'invocation_id', 'level', 'log_version', 'msg', 'thread', 'thread_name', 'type', 'name', 'ts', 'pid', 'extra']);

export interface DbtLogLine {
  level: LogLevel;
  message: string;
  stats?: Record<string, number>;
}

/** A dbt JSON log event as one log line, or undefined when `line` is not one. */
export function parseDbtLogLine(line: string): DbtLogLine | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  // dbt ≥ 1.5 nests the common fields under `info`; older versions put them at the top level.
  const info = (typeof event.info === 'object' && event.info !== null ? event.info : undefined) as Record<string, unknown> | undefined;
  const source = info ?? event;
  const dbtLevel = source.level;
  if (typeof dbtLevel !== 'string') return undefined;
  const text = (value: unknown) => (value == null ? 'null' : String(value));
  const msg = typeof source.msg === 'string' ? `${source.msg} ` : '';
  const extra = info ? Object.fromEntries(Object.entries(info).filter(([key]) => !SHOWN_OR_NOISE.has(key))) : {};
  const message = `[Date: ${text(source.ts)}] [Thread: ${text(info ? info.thread : event.thread_name)}] [Type: ${text(info ? info.name : event.type)}] ${msg}${Object.keys(extra).length ? JSON.stringify(extra) : ''}`.trimEnd();
  const data = event.data as { stats?: unknown } | undefined;
  const stats = data && typeof data.stats === 'object' && data.stats !== null ? numericEntries(data.stats as Record<string, unknown>) : undefined;
  return { level: levelOf(dbtLevel), message, stats };
}

function levelOf(dbtLevel: string): LogLevel {
  switch (dbtLevel) {
    case 'debug':
      return 'DEBUG';
    case 'info':
      return 'INFO';
    case 'warn':
      return 'WARN';
    default:
      return 'ERROR';
  }
}

function numericEntries(map: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(map).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
}

/**
 * A TaskLogger in front of the task's own: the script layer hands it every output line, and the
 * lines that are dbt log events are rewritten; anything else passes through unchanged.
 */
export class DbtLogRelay implements TaskLogger {
  warningDetected = false;
  readonly metrics: ScriptMetric[] = [];

  constructor(private readonly target: TaskLogger) {}

  log(level: LogLevel, message: string): void {
    const parsed = parseDbtLogLine(message);
    if (!parsed) {
      this.target.log(level, message);
      return;
    }
    if (parsed.level === 'WARN') this.warningDetected = true;
    for (const [name, value] of Object.entries(parsed.stats ?? {})) this.metrics.push({ name, type: 'counter', value });
    this.target.log(parsed.level, parsed.message);
  }

  trace(message: string): void {
    this.log('TRACE', message);
  }
  debug(message: string): void {
    this.log('DEBUG', message);
  }
  info(message: string): void {
    this.log('INFO', message);
  }
  warn(message: string): void {
    this.log('WARN', message);
  }
  error(message: string): void {
    this.log('ERROR', message);
  }
}
