import { Hono } from 'hono';
import { isCreated, STATES, type HistogramSeries, type StateType } from '../../engine/index.ts';
import { readModelOf } from '../../engine/read-model/index.ts';
import { loadSyncStatus } from '../../sync/index.ts';
import type { SecurityCounters } from '../auth-throttle.ts';
import type { ServerDeps } from '../deps.ts';

/** Prometheus' text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Waiting or running: what a busy server has not worked through yet. */
function inQueue(state: StateType): boolean {
  return isCreated(state) || state === 'QUEUED' || state === 'RUNNING';
}

/**
 * `GET /metrics` in Prometheus' text format: executions by state and the queue depth (from the
 * database, so they survive restarts and count every process), task-run durations (this process,
 * since it started) and the Git sync lag. Kestra serves its metrics on a separate management port;
 * Baton has one port, so the app puts this route behind the API's credentials when any are set:
 * flow names do not appear here, but activity and sync health are not for anyone on the network.
 */
export function metricsRoutes(deps: ServerDeps, counters: SecurityCounters): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const [counts, sync, backlog] = await Promise.all([
      readModelOf(deps.db).executions.countByState(),
      loadSyncStatus(deps.db),
      deps.engine.resources.queue.backlog(),
    ]);
    const lines: string[] = [];
    const family = (name: string, type: 'gauge' | 'histogram' | 'counter', help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    family('baton_executions', 'gauge', 'Executions in the database, by current state.');
    for (const state of STATES) lines.push(`baton_executions{state="${state}"} ${counts[state] ?? 0}`);

    family('baton_queue_depth', 'gauge', 'Executions waiting or running (CREATED, RESTARTED, QUEUED, RUNNING).');
    lines.push(`baton_queue_depth ${STATES.filter(inQueue).reduce((n, s) => n + (counts[s] ?? 0), 0)}`);

    family('baton_work_waiting', 'gauge', 'Unfinished executions no process holds a lease on: waiting for a worker (or for one to take over).');
    lines.push(`baton_work_waiting ${backlog.waiting}`);
    family('baton_work_leased', 'gauge', 'Unfinished executions a process runs under a live lease.');
    lines.push(`baton_work_leased ${backlog.leased}`);

    family('baton_sync_lag_seconds', 'gauge', 'Seconds since the last successful Git sync (absent before the first one).');
    if (sync?.lastSuccessAt) lines.push(`baton_sync_lag_seconds ${formatNumber(Math.max(0, (Date.now() - Date.parse(sync.lastSuccessAt)) / 1000))}`);

    family('baton_task_run_duration_seconds', 'histogram', 'Duration of the task runs this process ran, by final state.');
    for (const series of deps.engine.taskRunDurations.snapshot()) lines.push(...histogramLines('baton_task_run_duration_seconds', series));

    family('baton_auth_failures_total', 'counter', 'Failed dashboard logins and invalid API tokens (this process, since it started).');
    for (const [kind, n] of Object.entries(counters.authFailures)) lines.push(`baton_auth_failures_total{kind="${kind}"} ${n}`);
    family('baton_auth_lockouts_total', 'counter', 'Client addresses locked out after too many failed attempts (BATON_LIMIT_AUTH_FAILURES).');
    lines.push(`baton_auth_lockouts_total ${counters.lockouts}`);
    family('baton_auth_locked_attempts_total', 'counter', 'Attempts refused (429) because their address was locked out.');
    lines.push(`baton_auth_locked_attempts_total ${counters.lockedAttempts}`);
    family('baton_git_push_skipped_total', 'counter', 'Verified push deliveries that led to no sync: a delivery id seen before, or a commit already live (replays count here).');
    for (const [reason, n] of Object.entries(counters.pushesSkipped)) lines.push(`baton_git_push_skipped_total{reason="${reason}"} ${n}`);

    return c.body(`${lines.join('\n')}\n`, 200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}

function histogramLines(name: string, series: HistogramSeries): string[] {
  const labels = Object.entries(series.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  const withLabels = (extra: string[] = []) => `{${[...labels, ...extra].join(',')}}`;
  return [
    ...series.buckets.map(([le, count]) => `${name}_bucket${withLabels([`le="${le === Number.POSITIVE_INFINITY ? '+Inf' : formatNumber(le)}"`])} ${count}`),
    `${name}_sum${withLabels()} ${formatNumber(series.sum)}`,
    `${name}_count${withLabels()} ${series.count}`,
  ];
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6)));
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
