import { beforeAll, describe, expect, it } from 'vitest';
import { executions, logs, type Db } from '../../db/index.ts';
import { describeEachDatabase } from '../../test/support/databases.ts';
import { newState, transition, type StateType } from '../state.ts';
import { readModelOf, type ReadModel } from './index.ts';

const BASE = Date.UTC(2025, 0, 1);

/** Rows as the repository writes them: a start date `minute` minutes after BASE, terminal unless RUNNING. */
async function addExecution(db: Db, row: { id: string; namespace: string; flowId: string; state: StateType; minute: number; trigger?: boolean }) {
  const start = new Date(BASE + row.minute * 60_000);
  let state = transition(newState('CREATED', start), 'RUNNING', 'test', start);
  if (row.state !== 'RUNNING') state = transition(state, row.state, 'test', new Date(start.getTime() + 5000));
  await db.insert(executions).values({
    id: row.id,
    namespace: row.namespace,
    flowId: row.flowId,
    flowRevision: 1,
    state: row.state,
    stateDetail: state,
    startDate: state.startDate,
    endDate: state.endDate ?? null,
    inputs: {},
    labels: [{ key: 'team', value: 'data' }],
    trigger: row.trigger ? { id: 'every-minute', type: 'io.kestra.plugin.core.trigger.Schedule' } : null,
  });
}

describeEachDatabase('read model', (open) => {
  let db: Db;
  let model: ReadModel;

  beforeAll(async () => {
    db = (await open()).db;
    model = readModelOf(db);
    // Namespaces that a naive prefix (`LIKE 'a.b%'`) or an unescaped `_` would confuse.
    const rows = [
      { id: 'e1', namespace: 'acme.data', flowId: 'etl', state: 'SUCCESS', minute: 1 },
      { id: 'e2', namespace: 'acme.data.raw', flowId: 'etl', state: 'FAILED', minute: 2 },
      { id: 'e3', namespace: 'acme.database', flowId: 'etl', state: 'SUCCESS', minute: 3 },
      { id: 'e4', namespace: 'acme.data', flowId: 'load', state: 'RUNNING', minute: 4, trigger: true },
      { id: 'e5', namespace: 'acme_data', flowId: 'etl', state: 'SUCCESS', minute: 5 },
      { id: 'e6', namespace: 'acme.data', flowId: 'etl', state: 'KILLED', minute: 6 },
    ] as const;
    for (const row of rows) await addExecution(db, row);
    const lines = Array.from({ length: 12 }, (_, i) => ({
      executionId: 'e1',
      taskId: i % 2 ? 'odd' : 'even',
      attemptNumber: 1,
      timestamp: new Date(BASE + i * 1000).toISOString(),
      level: ['DEBUG', 'INFO', 'WARN', 'ERROR'][i % 4],
      message: i === 7 ? 'done 100% of it' : `line ${i} at 10%`.replace('10%', i === 3 ? '10 percent' : 'ten'),
    }));
    await db.insert(logs).values(lines);
    await db.insert(logs).values({ executionId: 'e2', timestamp: new Date(BASE).toISOString(), level: 'INFO', message: 'other execution' });
  });

  it('filters a namespace and those below it, literally: never a sibling sharing its prefix or a `_` wildcard match', async () => {
    const { rows } = await model.executions.list({ namespace: 'acme.data' });
    expect(rows.map((r) => r.id)).toEqual(['e6', 'e4', 'e2', 'e1']);
    expect((await model.executions.list({ namespace: 'acme_data' })).rows.map((r) => r.id)).toEqual(['e5']);
  });

  it('lists newest first, one page at a time, and says whether another page follows', async () => {
    const first = await model.executions.list({ page: 1, size: 4 });
    expect(first.rows.map((r) => r.id)).toEqual(['e6', 'e5', 'e4', 'e3']);
    expect(first.hasNext).toBe(true);
    const second = await model.executions.list({ page: 2, size: 4 });
    expect(second.rows.map((r) => r.id)).toEqual(['e2', 'e1']);
    expect(second.hasNext).toBe(false);
    const [e4] = (await model.executions.list({ flowId: 'load', state: 'RUNNING' })).rows;
    expect(e4).toEqual({
      id: 'e4', namespace: 'acme.data', flowId: 'load', flowRevision: 1, state: 'RUNNING',
      startDate: new Date(BASE + 4 * 60_000).toISOString(), endDate: null, labels: [{ key: 'team', value: 'data' }],
    });
    const between = await model.executions.list({ from: new Date(BASE + 2 * 60_000).toISOString(), to: new Date(BASE + 3 * 60_000).toISOString() });
    expect(between.rows.map((r) => r.id)).toEqual(['e3', 'e2']);
  });

  it("pages one flow's executions (exactly its namespace) with their total, and finds each flow's newest", async () => {
    const page = await model.executions.ofFlow('acme.data', 'etl', { page: 1, size: 1 });
    expect(page.total).toBe(2);
    expect(page.rows.map((r) => [r.id, r.triggered])).toEqual([['e6', false]]);
    expect((await model.executions.ofFlow('acme.data', 'etl', { page: 2, size: 1 })).rows.map((r) => r.id)).toEqual(['e1']);
    expect((await model.executions.ofFlow('acme.data', 'load', {})).rows[0].triggered).toBe(true);
    const latest = await model.executions.latestOfFlows(['acme.data', 'acme_data', 'acme.data']);
    expect(Object.fromEntries([...latest].map(([key, e]) => [key, e.id]))).toEqual({ 'acme.data/etl': 'e6', 'acme.data/load': 'e4', 'acme_data/etl': 'e5' });
    expect(await model.executions.latestOfFlows([])).toEqual(new Map());
  });

  it('reads one state and the counts by state', async () => {
    expect(await model.executions.state('e2')).toBe('FAILED');
    expect(await model.executions.state('missing')).toBeUndefined();
    expect(await model.executions.countByState()).toEqual({ SUCCESS: 3, FAILED: 1, RUNNING: 1, KILLED: 1 });
  });

  it("pages an execution's log lines back from the newest, with level, task and literal text filters", async () => {
    const tail = await model.logs.tail('e1', {}, { limit: 5 });
    expect(tail.more).toBe(true);
    expect(tail.lines.map((l) => l.message.split(' ')[1])).toEqual(['7', '8', '9', '10', '11'].map((n, i) => (i === 0 ? '100%' : n)));
    const older = await model.logs.tail('e1', {}, { beforeId: tail.lines[0].id, limit: 5 });
    expect(older.lines).toHaveLength(5);
    const oldest = await model.logs.tail('e1', {}, { beforeId: older.lines[0].id, limit: 5 });
    expect(oldest).toMatchObject({ more: false });
    expect(oldest.lines.map((l) => l.message)).toEqual(['line 0 at ten', 'line 1 at ten']);
    const warn = await model.logs.tail('e1', { minLevel: 'WARN', taskId: 'even' }, { limit: 100 });
    expect(warn.lines.map((l) => [l.level, l.taskId])).toEqual([['WARN', 'even'], ['WARN', 'even'], ['WARN', 'even']]);
    // `%` is text, not a wildcard: only the line with "100%" matches, not "10 percent".
    expect((await model.logs.tail('e1', { q: '0%' }, { limit: 100 })).lines.map((l) => l.message)).toEqual(['done 100% of it']);
    expect(tail.lines[0]).toMatchObject({ time: '00:00:07.000', timestamp: new Date(BASE + 7000).toISOString(), attemptNumber: 1 });
  });

  it('follows after an id and knows the last id', async () => {
    const all = (await model.logs.tail('e1', {}, { limit: 100 })).lines;
    const last = await model.logs.lastId('e1');
    expect(last).toBe(all.at(-1)!.id);
    expect((await model.logs.after('e1', {}, all[9].id, 100)).map((l) => l.id)).toEqual([all[10].id, all[11].id]);
    expect(await model.logs.after('e1', {}, all[0].id, 3)).toHaveLength(3);
    expect(await model.logs.lastId('missing')).toBe(0);
  });

  it('reads stored entries with every column, by task run and attempt, page after page', async () => {
    await db.insert(logs).values([1, 2, 2].map((attemptNumber, i) => ({
      executionId: 'e3', taskRunId: i ? 'run-b' : 'run-a', taskId: 'retried', attemptNumber,
      timestamp: new Date(BASE + i).toISOString(), level: 'INFO', message: `try ${i}`,
    })));
    const all = await model.logs.entries('e3');
    expect(all.map((e) => e.message)).toEqual(['try 0', 'try 1', 'try 2']);
    expect(all[0]).toEqual({ id: all[0].id, executionId: 'e3', taskRunId: 'run-a', taskId: 'retried', attemptNumber: 1, timestamp: new Date(BASE).toISOString(), level: 'INFO', message: 'try 0' });
    expect((await model.logs.entries('e3', { taskRunId: 'run-b', attemptNumber: 2 })).map((e) => e.message)).toEqual(['try 1', 'try 2']);
    expect((await model.logs.entries('e3', { attemptNumber: 1 })).map((e) => e.message)).toEqual(['try 0']);
    expect((await model.logs.entries('e3', { afterId: all[0].id, limit: 1 })).map((e) => e.message)).toEqual(['try 1']);
    expect(await model.logs.entries('e3', { minLevel: 'WARN' })).toEqual([]);
  });
});

describe('readModelOf', () => {
  it('makes one read model per database handle', async () => {
    const a = {} as Db;
    expect(readModelOf(a)).toBe(readModelOf(a));
    expect(readModelOf(a)).not.toBe(readModelOf({} as Db));
  });
});
