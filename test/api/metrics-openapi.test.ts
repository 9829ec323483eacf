import { beforeAll, expect, it } from 'vitest';
import type { Execution } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { eventually, openApiHarness, type ApiHarness } from './harness.ts';

const NS = 'api.metrics';

const OK_FLOW = `id: ok
namespace: ${NS}
tasks:
  - id: one
    type: io.kestra.plugin.core.debug.Return
    format: one
  - id: two
    type: io.kestra.plugin.core.debug.Return
    format: two
`;

const BAD_FLOW = `id: bad
namespace: ${NS}
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
`;

const SLOW_FLOW = `id: slow
namespace: ${NS}
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT10S
`;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of Prometheus' text format 0.0.4: every line is a HELP, a TYPE or a sample of a
 * declared family; label values are quoted; values are numbers (or ±Inf/NaN); no series twice.
 */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(meta[3]);
        expect(types.has(meta[2]), `TYPE ${meta[2]} twice`).toBe(false);
        types.set(meta[2], meta[3]);
      } else {
        helps.add(meta[2]);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)$/.exec(line);
    expect(sample, `not a sample line: ${line}`).not.toBeNull();
    const [, name, rawLabels = '', rawValue] = sample!;
    const labels = Object.fromEntries([...rawLabels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    const value = rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : Number(rawValue);
    expect(rawValue === 'NaN' || !Number.isNaN(value), `bad value in ${line}`).toBe(true);
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(family), `sample of undeclared family: ${line}`).toBe(true);
    expect(helps.has(family), `family without HELP: ${family}`).toBe(true);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    expect(seen.has(key), `series twice: ${line}`).toBe(false);
    seen.add(key);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describeEachDatabase('metrics and OpenAPI', (open) => {
  let h: ApiHarness;
  const run = async (flowId: string, wait = true) => {
    const res = await h.api(`/api/v1/executions/${NS}/${flowId}${wait ? '?wait=true' : ''}`, { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as Execution;
  };
  const scrape = async () => {
    const res = await h.api('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parsePrometheus(await res.text());
  };

  beforeAll(async () => {
    h = await openApiHarness(open);
    await h.publish(OK_FLOW, BAD_FLOW, SLOW_FLOW);
  });

  it('/metrics needs the API credentials when a token is set', async () => {
    const res = await h.app.request('/metrics');
    expect(res.status).toBe(401);
    expect(Object.keys(await res.json()).sort()).toEqual(['details', 'message']);
    expect((await h.app.request('/metrics', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('exposes executions by state, queue depth, task-run durations and sync lag, in valid text format', async () => {
    await run('ok');
    await run('ok');
    await run('bad');
    const slow = await run('slow', false);
    // Counts come from the database, which the executor writes a moment after the change.
    const { types, samples } = await eventually(async () => {
      const scraped = await scrape();
      return value(scraped.samples, 'baton_executions', { state: 'RUNNING' }) === 1 ? scraped : undefined;
    }, 'the running execution to be counted');
    expect(Object.fromEntries(types)).toEqual({
      baton_executions: 'gauge',
      baton_queue_depth: 'gauge',
      baton_work_waiting: 'gauge',
      baton_work_leased: 'gauge',
      baton_sync_lag_seconds: 'gauge',
      baton_task_run_duration_seconds: 'histogram',
      baton_auth_failures_total: 'counter',
      baton_auth_lockouts_total: 'counter',
      baton_auth_locked_attempts_total: 'counter',
      baton_git_push_skipped_total: 'counter',
    });
    // The wrong token of the test before.
    expect(value(samples, 'baton_auth_failures_total', { kind: 'api-token' })).toBe(1);
    expect(value(samples, 'baton_auth_lockouts_total')).toBe(0);
    expect(value(samples, 'baton_executions', { state: 'SUCCESS' })).toBe(2);
    expect(value(samples, 'baton_executions', { state: 'FAILED' })).toBe(1);
    expect(value(samples, 'baton_executions', { state: 'RUNNING' })).toBe(1);
    expect(value(samples, 'baton_executions', { state: 'KILLED' })).toBe(0);
    expect(samples.filter((s) => s.name === 'baton_executions')).toHaveLength(15);
    expect(value(samples, 'baton_queue_depth')).toBe(1);
    // The one unfinished execution is either waiting for a worker or leased by one.
    expect(value(samples, 'baton_work_waiting')! + value(samples, 'baton_work_leased')!).toBe(1);
    // The harness published the flows through a sync a moment ago.
    const lag = value(samples, 'baton_sync_lag_seconds')!;
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(120);

    // 4 successful task runs (two per `ok`), 1 failed; buckets cumulative, +Inf = count.
    expect(value(samples, 'baton_task_run_duration_seconds_count', { state: 'SUCCESS' })).toBe(4);
    expect(value(samples, 'baton_task_run_duration_seconds_count', { state: 'FAILED' })).toBe(1);
    for (const state of ['SUCCESS', 'FAILED']) {
      const buckets = samples.filter((s) => s.name === 'baton_task_run_duration_seconds_bucket' && s.labels.state === state);
      expect(buckets.map((b) => b.labels.le).at(-1)).toBe('+Inf');
      expect(buckets.map((b) => Number(b.labels.le === '+Inf' ? Infinity : b.labels.le))).toEqual([...buckets.map((b) => Number(b.labels.le === '+Inf' ? Infinity : b.labels.le))].sort((a, b) => a - b));
      const counts = buckets.map((b) => b.value);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(counts.at(-1)).toBe(value(samples, 'baton_task_run_duration_seconds_count', { state }));
      // Return and Fail take far less than 5 s.
      expect(value(samples, 'baton_task_run_duration_seconds_bucket', { state, le: '5' })).toBe(counts.at(-1));
      expect(value(samples, 'baton_task_run_duration_seconds_sum', { state })).toBeLessThan(5);
    }

    expect((await h.api(`/api/v1/executions/${slow.id}/kill`, { method: 'DELETE' })).status).toBe(202);
    await h.waitForExecution(slow.id);
    // The API answers from the run in memory; the metrics read the database, written a moment later.
    let after = (await scrape()).samples;
    for (const deadline = Date.now() + 5_000; value(after, 'baton_executions', { state: 'KILLED' }) !== 1 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 25));
      after = (await scrape()).samples;
    }
    expect(value(after, 'baton_queue_depth')).toBe(0);
    expect(value(after, 'baton_executions', { state: 'KILLED' })).toBe(1);
    expect(value(after, 'baton_task_run_duration_seconds_count', { state: 'KILLED' })).toBe(1);
  });

  it('the OpenAPI document describes every route the app registers, and nothing else', async () => {
    const res = await h.api('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>> };
    expect(doc.openapi).toBe('3.1.0');

    // The dashboard's pages (/, /ui/…, /static/…) are HTML, not API.
    const isDashboard = (path: string) => path === '/' || path === '/ui' || path.startsWith('/ui/') || path.startsWith('/static/');
    const registered = new Set(
      h.app.routes
        .filter((r) => r.method !== 'ALL' && !isDashboard(r.path))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`),
    );
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)));
    expect([...registered].filter((r) => !documented.has(r)), 'registered but not documented').toEqual([]);
    expect([...documented].filter((d) => !registered.has(d)), 'documented but not registered').toEqual([]);
    expect(registered.size).toBeGreaterThan(35);

    for (const [path, ops] of Object.entries(doc.paths)) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries(ops)) {
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort();
        expect([method, path, declared]).toEqual([method, path, inPath]);
        expect(Object.keys(op.responses).length, `${method} ${path} has no responses`).toBeGreaterThan(0);
      }
    }
  });
});
