import { beforeAll, expect, it } from 'vitest';
import { executions } from '../../db/index.ts';
import { isTerminal, type Execution, type StateType } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { openApiHarness, type ApiHarness } from './harness.ts';

const BASE = Date.parse('2024-03-01T00:00:00.000Z');
const at = (minutes: number) => new Date(BASE + minutes * 60_000).toISOString();

interface Seed {
  id: string;
  namespace: string;
  flowId: string;
  state: StateType;
  /** Minutes after BASE. */
  start: number;
  /** Minutes after BASE; terminal states only. */
  end?: number;
  labels?: Record<string, string>;
}

function execution(seed: Seed): Execution {
  const startDate = at(seed.start);
  const terminal = isTerminal(seed.state);
  return {
    id: seed.id,
    namespace: seed.namespace,
    flowId: seed.flowId,
    flowRevision: 1,
    state: {
      current: seed.state,
      histories: [{ state: 'CREATED', date: startDate }, ...(seed.state === 'CREATED' ? [] : [{ state: seed.state, date: terminal ? at(seed.end ?? seed.start + 1) : startDate }])],
      startDate,
      ...(terminal ? { endDate: at(seed.end ?? seed.start + 1) } : {}),
    },
    inputs: {},
    outputs: null,
    labels: Object.entries(seed.labels ?? {}).map(([key, value]) => ({ key, value })),
    variables: null,
    trigger: null,
    taskRunList: [],
    originalId: null,
    parentExecutionId: null,
    parentTaskRunId: null,
    commitSha: null,
    attemptNumber: 1,
  };
}

const SEEDS: Seed[] = [
  { id: 's01', namespace: 'srch', flowId: 'alpha', state: 'SUCCESS', start: 0, end: 5, labels: { team: 'data' } },
  { id: 's02', namespace: 'srch', flowId: 'alpha', state: 'FAILED', start: 10, end: 12, labels: { team: 'data', env: 'prod' } },
  { id: 's03', namespace: 'srch', flowId: 'beta', state: 'KILLED', start: 20, end: 30 },
  { id: 's04', namespace: 'srch.sub', flowId: 'alpha', state: 'SUCCESS', start: 30, end: 31, labels: { env: 'prod' } },
  { id: 's05', namespace: 'srch.sub.deep', flowId: 'gamma', state: 'RUNNING', start: 40 },
  { id: 's06', namespace: 'srchother', flowId: 'alpha', state: 'SUCCESS', start: 50, end: 55 },
  { id: 's07', namespace: 'srch', flowId: 'beta', state: 'WARNING', start: 60, end: 90 },
  { id: 's08', namespace: 'srch', flowId: 'alpha', state: 'CREATED', start: 70 },
];

const ids = (body: { results: Execution[] }) => body.results.map((e) => e.id);

describeEachDatabase('execution search', (open) => {
  let h: ApiHarness;
  const search = async (query: string) => {
    const res = await h.api(`/api/v1/executions/search?${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { results: Execution[]; total: number };
  };

  beforeAll(async () => {
    h = await openApiHarness(open);
    for (const seed of SEEDS) {
      const e = execution(seed);
      e.taskRunList = [{
        id: `${seed.id}-t`, executionId: seed.id, namespace: seed.namespace, flowId: seed.flowId, taskId: 'only', parentTaskRunId: null,
        value: null, iteration: null, state: e.state, attempts: [], outputs: null,
      }];
      await h.engine.resources.repository.replaceExecution(e);
    }
  });

  it('namespace matches itself and the namespaces below it, newest start first, with task runs', async () => {
    const body = await search('namespace=srch');
    expect(ids(body)).toEqual(['s08', 's07', 's05', 's04', 's03', 's02', 's01']);
    expect(body.total).toBe(7);
    expect(body.results[0].taskRunList.map((t) => t.id)).toEqual(['s08-t']);
    expect({ ...body.results[0], taskRunList: [] }).toEqual(execution(SEEDS[7]));
    expect(ids(await search('namespace=srch.sub'))).toEqual(['s05', 's04']);
  });

  it.each<[string, string[]]>([
    ['namespace=srch&flowId=alpha', ['s08', 's04', 's02', 's01']],
    ['namespace=srch&state=FAILED&state=KILLED', ['s03', 's02']],
    ['namespace=srch&state=SUCCESS,WARNING', ['s07', 's04', 's01']],
    ['namespace=srch&startDate=2024-03-01T00:20:00Z', ['s08', 's07', 's05', 's04', 's03']],
    ['namespace=srch&endDate=2024-03-01T00:30:00Z', ['s03', 's02', 's01']],
    ['namespace=srch&startDate=2024-03-01T00:10:00Z&endDate=2024-03-01T00:31:00Z', ['s04', 's03', 's02']],
    ['namespace=srch&labels=env:prod', ['s04', 's02']],
    ['namespace=srch&labels=env:prod&labels=team:data', ['s02']],
    ['flowId=alpha&state=SUCCESS', ['s06', 's04', 's01']],
  ])('%s', async (query, expected) => {
    const body = await search(query);
    expect(ids(body)).toEqual(expected);
    expect(body.total).toBe(expected.length);
  });

  it('pages: size and page, total of all matches', async () => {
    const pages = await Promise.all([1, 2, 3].map((page) => search(`namespace=srch&size=3&page=${page}`)));
    expect(pages.map(ids)).toEqual([['s08', 's07', 's05'], ['s04', 's03', 's02'], ['s01']]);
    expect(pages.map((p) => p.total)).toEqual([7, 7, 7]);
    expect(ids(await search('namespace=srch&size=3&page=4'))).toEqual([]);
  });

  it.each<[string, RegExp]>([
    ['state=DONE', /unknown state 'DONE'/],
    ['startDate=yesterday', /'startDate' must be an ISO-8601 date-time/],
    ['page=0', /'page' must be a positive integer/],
    ['labels=nocolon', /label 'nocolon' must be key:value/],
  ])('refuses %s with a 400', async (query, message) => {
    const res = await h.api(`/api/v1/executions/search?${query}`);
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(message);
  });

  it('stays fast with 10,000 executions', async () => {
    const states: StateType[] = ['SUCCESS', 'FAILED', 'RUNNING', 'KILLED', 'WARNING'];
    const rows = Array.from({ length: 10_000 }, (_, i) => {
      const e = execution({
        id: `bulk${String(i).padStart(5, '0')}`,
        namespace: `bulk.team${i % 10}`,
        flowId: `flow${i % 50}`,
        state: states[i % states.length],
        start: 1_000 + i,
        labels: { shard: String(i % 4) },
      });
      return {
        id: e.id, namespace: e.namespace, flowId: e.flowId, flowRevision: 1, state: e.state.current, stateDetail: e.state,
        startDate: e.state.startDate, endDate: e.state.endDate ?? null, inputs: {}, labels: e.labels, attemptNumber: 1,
      };
    });
    for (let i = 0; i < rows.length; i += 1_000) await h.db.insert(executions).values(rows.slice(i, i + 1_000));

    const timed = async (query: string) => {
      const started = performance.now();
      const body = await search(query);
      return { body, ms: performance.now() - started };
    };
    const cases: [string, number, string][] = [
      ['namespace=bulk&size=25', 10_000, 'bulk09999'],
      ['namespace=bulk&state=FAILED&size=25', 2_000, 'bulk09996'],
      ['namespace=bulk.team3&flowId=flow3&size=25', 200, 'bulk09953'],
      ['namespace=bulk&page=300&size=25', 10_000, 'bulk02524'],
      ['namespace=bulk&labels=shard:1&state=RUNNING&size=25', 500, 'bulk09997'],
      // Started from minute 1200 (i ≥ 200), ended by minute 10080 (i ≤ 9079), so never RUNNING (i % 5 = 2).
      ['namespace=bulk&startDate=2024-03-01T20:00:00Z&endDate=2024-03-08T00:00:00Z&size=25', 7_104, 'bulk09079'],
    ];
    for (const [query, total, first] of cases) {
      const { body, ms } = await timed(query);
      expect([query, body.total, body.results[0]?.id]).toEqual([query, total, first]);
      // Milliseconds in practice; the bound catches a per-row query or a full load, not a slow machine.
      expect(ms, query).toBeLessThan(2_000);
    }
  });
});
