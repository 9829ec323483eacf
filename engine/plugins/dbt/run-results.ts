/**
 * dbt's `target/run_results.json` as Kestra's ResultParser reads it: one summary line per node
 * (`<unique_id> => <status> in 0.12s (N failures)`, then the node's message), at the level of the
 * node's outcome, and the `rows.affected` / `bytes.processed` counters of its adapter response.
 */
import type { LogLevel } from '../../logs/types.ts';
import type { ScriptMetric } from '../../scripts/index.ts';

/** The fields Baton reads from one entry of `results` (dbt's run-results schema v4–v6). */
export interface DbtNodeResult {
  unique_id: string;
  status: string;
  execution_time?: number | null;
  message?: string | null;
  failures?: number | null;
  adapter_response?: Record<string, unknown> | null;
  timing?: Array<{ name: string; started_at?: string; completed_at?: string }>;
}

export interface DbtRunResults {
  results: DbtNodeResult[];
  elapsed_time?: number;
  args?: Record<string, unknown>;
}

export type DbtNodeState = 'SUCCESS' | 'WARNING' | 'FAILED' | 'SKIPPED';

/** Kestra's mapping of a dbt node status onto a task-run state. */
export function nodeState(status: string): DbtNodeState | undefined {
  switch (status) {
    case 'error':
    case 'fail':
    case 'runtime_error':
      return 'FAILED';
    case 'warn':
      return 'WARNING';
    case 'skipped':
      return 'SKIPPED';
    case 'success':
    case 'pass':
      return 'SUCCESS';
    default:
      return undefined;
  }
}

/** The parsed file, or a reason it cannot be used. */
export function parseRunResults(text: string): { ok: true; value: DbtRunResults } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  const results = (parsed as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return { ok: false, reason: "no 'results' list" };
  const bad = results.findIndex((r) => typeof r?.unique_id !== 'string' || typeof r?.status !== 'string');
  if (bad !== -1) return { ok: false, reason: `results[${bad}] has no unique_id or status` };
  return { ok: true, value: parsed as DbtRunResults };
}

/** The log lines of one node: its summary, then its own message when it has one. */
export function nodeLogLines(result: DbtNodeResult): Array<{ level: LogLevel; message: string }> {
  const state = nodeState(result.status);
  const level: LogLevel = state === 'FAILED' ? 'ERROR' : state === 'WARNING' ? 'WARN' : 'INFO';
  let summary = `${result.unique_id} => ${result.status}`;
  if (typeof result.execution_time === 'number') summary += ` in ${result.execution_time.toFixed(2)}s`;
  if (typeof result.failures === 'number' && result.failures > 0) summary += ` (${result.failures} ${result.failures === 1 ? 'failure' : 'failures'})`;
  const lines = [{ level, message: summary }];
  if (typeof result.message === 'string' && result.message.trim() !== '') lines.push({ level, message: result.message });
  return lines;
}

/** `rows.affected` and `bytes.processed` of every node, tagged with the node it came from. */
export function nodeMetrics(results: readonly DbtNodeResult[]): ScriptMetric[] {
  const metrics: ScriptMetric[] = [];
  for (const result of results) {
    for (const [key, name] of [['rows_affected', 'rows.affected'], ['bytes_processed', 'bytes.processed']] as const) {
      const value = Number(result.adapter_response?.[key]);
      if (result.adapter_response?.[key] != null && Number.isFinite(value)) {
        metrics.push({ name, type: 'counter', value, tags: { unique_id: result.unique_id } });
      }
    }
  }
  return metrics;
}
