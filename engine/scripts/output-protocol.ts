/**
 * Kestra's script output protocol: a line that is exactly `::{json}::` carries outputs, metrics and
 * log lines instead of text (Python's `Kestra.outputs()` prints one). Parsed as Kestra's
 * TaskLogLineMatcher does; a line whose JSON does not fit is reported as invalid, never half-applied.
 */
import { LOG_LEVELS, type LogLevel } from '../logs/types.ts';

const PROTOCOL_LINE = /^::(\{.*\})::$/;

/** A metric sent by a script (Kestra's counter or timer; a timer's value is a duration in seconds or ISO-8601). */
export interface ScriptMetric {
  name: string;
  type: 'counter' | 'timer';
  value: number | string;
  tags?: Record<string, string>;
}

export interface ProtocolMessage {
  outputs: Record<string, unknown>;
  metrics: ScriptMetric[];
  logs: Array<{ level: LogLevel; message: string }>;
}

export type ProtocolLine =
  | { kind: 'text' }
  | { kind: 'message'; message: ProtocolMessage }
  | { kind: 'invalid'; reason: string };

/** Classifies one output line: ordinary text, a protocol message, or a protocol line that cannot be used. */
export function parseProtocolLine(line: string): ProtocolLine {
  const match = PROTOCOL_LINE.exec(line);
  if (!match) return { kind: 'text' };
  let data: unknown;
  try {
    data = JSON.parse(match[1]);
  } catch (error) {
    return { kind: 'invalid', reason: (error as Error).message };
  }
  const body = data as Record<string, unknown>;
  const outputs = body.outputs ?? {};
  if (!isPlainObject(outputs)) return { kind: 'invalid', reason: '"outputs" must be an object' };
  if (body.metrics != null && !Array.isArray(body.metrics)) return { kind: 'invalid', reason: '"metrics" must be a list' };
  if (body.logs != null && !Array.isArray(body.logs)) return { kind: 'invalid', reason: '"logs" must be a list' };
  const metrics: ScriptMetric[] = [];
  for (const entry of asList(body.metrics)) {
    const metric = toMetric(entry);
    if (typeof metric === 'string') return { kind: 'invalid', reason: metric };
    metrics.push(metric);
  }
  const logs: ProtocolMessage['logs'] = [];
  for (const entry of asList(body.logs)) {
    if (!isPlainObject(entry)) return { kind: 'invalid', reason: 'each of "logs" must be an object' };
    const level = toLevel(entry.level);
    if (!level) return { kind: 'invalid', reason: `unknown log level ${JSON.stringify(entry.level)}` };
    logs.push({ level, message: entry.message == null ? '' : String(entry.message) });
  }
  return { kind: 'message', message: { outputs, metrics, logs } };
}

function toMetric(entry: unknown): ScriptMetric | string {
  if (!isPlainObject(entry)) return 'each of "metrics" must be an object';
  const type = typeof entry.type === 'string' ? entry.type.toLowerCase() : '';
  if (type !== 'counter' && type !== 'timer') return `unknown metric type ${JSON.stringify(entry.type)}`;
  if (typeof entry.name !== 'string' || !entry.name) return 'a metric needs a "name"';
  const value = entry.value;
  const valid = typeof value === 'number' ? Number.isFinite(value) : type === 'timer' && typeof value === 'string';
  if (!valid) return `metric "${entry.name}" has an invalid value ${JSON.stringify(value)}`;
  const metric: ScriptMetric = { name: entry.name, type, value: value as number | string };
  if (entry.tags != null) {
    if (!isPlainObject(entry.tags)) return `metric "${entry.name}" has tags that are not an object`;
    metric.tags = Object.fromEntries(Object.entries(entry.tags).map(([k, v]) => [k, String(v)]));
  }
  return metric;
}

/** SLF4J level names, case-insensitive, plus the names Python's logging uses. */
function toLevel(value: unknown): LogLevel | undefined {
  if (typeof value !== 'string') return undefined;
  const upper = value.toUpperCase();
  if ((LOG_LEVELS as readonly string[]).includes(upper)) return upper as LogLevel;
  if (upper === 'WARNING') return 'WARN';
  if (upper === 'CRITICAL' || upper === 'FATAL') return 'ERROR';
  return undefined;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
