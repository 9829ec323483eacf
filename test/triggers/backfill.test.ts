import type { Hono } from 'hono';
import { beforeAll, expect, it } from 'vitest';
import type { Database } from '../../db/index.ts';
import type { Engine, TriggerView } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import {
  API_TOKEN, apiRequest, executionsOf, flowEngine, FlowPublisher, ManualClock, scheduledFlow, testApp, testScheduler, tickAndSettle,
} from './support.ts';

/** The seed course's monthly taxi schedule (Part 7), with a task that shows the file it would load. */
const TAXI = `id: taxi
namespace: zoomcamp
inputs:
  - id: taxi
    type: SELECT
    values: [yellow, green]
    defaults: yellow
  - id: year
    type: STRING
  - id: month
    type: STRING
variables:
  file: "{{ inputs.taxi }}_tripdata_{{ inputs.year }}-{{ inputs.month }}.csv"
tasks:
  - id: file
    type: io.kestra.plugin.core.debug.Return
    format: "{{ render(vars.file) }}"
triggers:
  - id: monthly_schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 1 * *"
    inputs:
      taxi: yellow
      year: "{{ trigger.date | date('yyyy') }}"
      month: "{{ trigger.date | date('MM') }}"
`;

const TAXI_TRIGGER = { namespace: 'zoomcamp', flowId: 'taxi', triggerId: 'monthly_schedule' };

describeEachDatabase('backfill', (open) => {
  let database: Database;
  let publisher: FlowPublisher;
  let engine: Engine;
  let app: Hono;

  const api = async <T>(path: string, init: RequestInit, status = 200): Promise<T> => {
    const res = await app.request(path, init);
    const text = await res.text();
    expect(res.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  const search = async (flowId: string) =>
    (await api<{ results: TriggerView[]; total: number }>(`/api/v1/triggers/search?namespace=zoomcamp&flowId=${flowId}`, apiRequest('GET'))).results;

  beforeAll(async () => {
    database = await open();
    publisher = new FlowPublisher(database.db);
    engine = await flowEngine(database.db);
    app = await testApp(database.db, engine);
  });

  it("runs the seed's backfill: 0 9 1 * * over 2019 is 12 executions, in order, for 2019-01 to 2019-12", async () => {
    await publisher.only(TAXI);
    const clock = new ManualClock('2024-05-10T12:00:00Z');
    const { scheduler, logs } = await testScheduler(database, clock, { engine });
    await tickAndSettle(scheduler);

    const set = await api<TriggerView>(
      '/api/v1/triggers',
      apiRequest('PUT', { ...TAXI_TRIGGER, backfill: { start: '2019-01-01T00:00:00Z', end: '2019-12-31T23:59:59Z', labels: [{ key: 'reason', value: 'reload 2019' }] } }),
    );
    expect(set.backfill).toMatchObject({ start: '2019-01-01T00:00:00.000Z', end: '2019-12-31T23:59:59.000Z', paused: false, done: 0, total: 12, ended: false });
    expect(await search('taxi')).toEqual([expect.objectContaining({ ...TAXI_TRIGGER, nextExecutionDate: '2024-06-01T09:00:00.000Z', backfill: expect.objectContaining({ done: 0, total: 12 }) })]);

    const progress: number[] = [];
    for (let tick = 0; tick < 20 && progress.at(-1) !== 12; tick++) {
      await tickAndSettle(scheduler);
      progress.push((await search('taxi'))[0].backfill!.done);
    }
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    const runs = await executionsOf(database.db, 'taxi');
    const months = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];
    expect(runs.map((e) => e.inputs)).toEqual(months.map((month) => ({ taxi: 'yellow', year: '2019', month })));
    expect(runs.map((e) => e.trigger?.date)).toEqual(months.map((m) => `2019-${m}-01T09:00:00Z`));
    expect(runs.map((e) => e.taskRunList[0].outputs?.value)).toEqual(months.map((m) => `yellow_tripdata_2019-${m}.csv`));
    for (const run of runs) {
      expect(run.state.current).toBe('SUCCESS');
      expect(run.labels).toEqual(expect.arrayContaining([{ key: 'system.backfill', value: 'true' }, { key: 'reason', value: 'reload 2019' }]));
    }
    const [done] = await search('taxi');
    expect(done.backfill).toMatchObject({ done: 12, total: 12, ended: true });
    // The regular schedule is untouched: next month, nothing fired for it.
    expect(done.nextExecutionDate).toBe('2024-06-01T09:00:00.000Z');
    expect(done.date).toBeNull();
    expect(logs).toEqual([]);
  });

  it('merges the backfill inputs over the trigger inputs, and refuses a second backfill while one runs', async () => {
    await publisher.only(TAXI);
    const clock = new ManualClock('2024-05-10T12:00:00Z');
    const { scheduler } = await testScheduler(database, clock, { engine });
    const before = (await executionsOf(database.db, 'taxi')).length;
    await api('/api/v1/triggers', apiRequest('PUT', { ...TAXI_TRIGGER, backfill: { start: '2020-03-01', end: '2020-04-30', inputs: { taxi: 'green' } } }));
    const again = await app.request('/api/v1/triggers', apiRequest('PUT', { ...TAXI_TRIGGER, backfill: { start: '2021-01-01T00:00:00Z' } }));
    expect(again.status).toBe(409);
    for (let i = 0; i < 4; i++) await tickAndSettle(scheduler);
    const runs = (await executionsOf(database.db, 'taxi')).slice(before);
    expect(runs.map((e) => `${e.inputs.taxi} ${e.inputs.year}-${e.inputs.month}`)).toEqual(['green 2020-03', 'green 2020-04']);
    // Once ended, a new backfill may start.
    await api('/api/v1/triggers', apiRequest('PUT', { ...TAXI_TRIGGER, backfill: { start: '2021-01-01T00:00:00Z', end: '2021-01-31T00:00:00Z' } }));
    await api('/api/v1/triggers/backfill/delete', apiRequest('POST', TAXI_TRIGGER));
  });

  it('waits for the previous execution to end; pauses, unpauses and deletes', async () => {
    const slow = scheduledFlow('slow', 'cron: "0 0 * * *"', {
      namespace: 'zoomcamp',
      tasks: '  - id: wait\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.4S',
    });
    await publisher.only(slow);
    const clock = new ManualClock('2024-05-10T12:00:00Z');
    const { scheduler } = await testScheduler(database, clock, { engine });
    const ref = { namespace: 'zoomcamp', flowId: 'slow', triggerId: 'schedule' };
    await api('/api/v1/triggers', apiRequest('PUT', { ...ref, backfill: { start: '2024-01-01T00:00:00Z', end: '2024-01-10T00:00:00Z' } }));

    await scheduler.tick();
    await scheduler.tick();
    await scheduler.tick();
    // One at a time: the first day's execution is still sleeping.
    expect(await executionsOf(database.db, 'slow')).toHaveLength(1);
    await scheduler.idle();
    await tickAndSettle(scheduler);
    expect(await executionsOf(database.db, 'slow')).toHaveLength(2);

    const paused = await api<TriggerView>('/api/v1/triggers/backfill/pause', apiRequest('PUT', ref));
    expect(paused.backfill).toMatchObject({ paused: true, done: 2, total: 10 });
    await tickAndSettle(scheduler);
    await tickAndSettle(scheduler);
    expect(await executionsOf(database.db, 'slow')).toHaveLength(2);
    expect((await search('slow'))[0].backfill).toMatchObject({ paused: true, done: 2, currentDate: '2024-01-03T00:00:00.000Z' });

    await api('/api/v1/triggers/backfill/unpause', apiRequest('PUT', ref));
    await tickAndSettle(scheduler);
    await tickAndSettle(scheduler);
    expect((await executionsOf(database.db, 'slow')).map((e) => e.trigger?.date)).toEqual([
      '2024-01-01T00:00:00Z',
      '2024-01-02T00:00:00Z',
      '2024-01-03T00:00:00Z',
      '2024-01-04T00:00:00Z',
    ]);

    const deleted = await api<TriggerView>('/api/v1/triggers/backfill/delete', apiRequest('POST', ref));
    expect(deleted.backfill).toBeNull();
    await tickAndSettle(scheduler);
    expect(await executionsOf(database.db, 'slow')).toHaveLength(4);
    // Kestra answers 400 when there is no backfill to change.
    await api('/api/v1/triggers/backfill/pause', apiRequest('PUT', ref), 400);
    await api('/api/v1/triggers/backfill/delete', apiRequest('POST', ref), 400);
  });

  it('resumes a backfill where it was after a restart, without doubles', async () => {
    await publisher.only(TAXI);
    const clock = new ManualClock('2024-05-10T12:00:00Z');
    const first = await testScheduler(database, clock, { engine });
    const before = (await executionsOf(database.db, 'taxi')).length;
    await api('/api/v1/triggers', apiRequest('PUT', { ...TAXI_TRIGGER, backfill: { start: '2018-01-01T00:00:00Z', end: '2018-06-30T00:00:00Z' } }));
    for (let i = 0; i < 3; i++) await tickAndSettle(first.scheduler);
    await first.scheduler.stop();

    const engineAfterRestart = await flowEngine(database.db);
    const second = await testScheduler(database, clock, { engine: engineAfterRestart });
    for (let i = 0; i < 6; i++) await tickAndSettle(second.scheduler);
    const runs = (await executionsOf(database.db, 'taxi')).slice(before);
    expect(runs.map((e) => e.trigger?.date)).toEqual(['01', '02', '03', '04', '05', '06'].map((m) => `2018-${m}-01T09:00:00Z`));
    expect((await search('taxi'))[0].backfill).toMatchObject({ done: 6, total: 6, ended: true });
  });

  it('refuses what it cannot do: unknown flow or trigger (404), bad dates and non-Schedule triggers (400), no token (401)', async () => {
    await publisher.only(TAXI, 'id: hook\nnamespace: zoomcamp\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\ntriggers:\n  - id: w\n    type: io.kestra.plugin.core.trigger.Webhook\n    key: abc\n');
    await api('/api/v1/triggers', apiRequest('PUT', { namespace: 'zoomcamp', flowId: 'nope', triggerId: 'monthly_schedule', backfill: { start: '2019-01-01' } }), 404);
    await api('/api/v1/triggers', apiRequest('PUT', { ...TAXI_TRIGGER, triggerId: 'nope', backfill: { start: '2019-01-01' } }), 404);
    const bad = await api<{ message: string }>('/api/v1/triggers', apiRequest('PUT', { ...TAXI_TRIGGER, backfill: { start: 'last year' } }), 400);
    expect(bad.message).toContain("backfill.start 'last year'");
    const reversed = await api<{ message: string }>('/api/v1/triggers', apiRequest('PUT', { ...TAXI_TRIGGER, backfill: { start: '2019-02-01', end: '2019-01-01' } }), 400);
    expect(reversed.message).toContain('is before backfill.start');
    await api('/api/v1/triggers', apiRequest('PUT', { namespace: 'zoomcamp', flowId: 'hook', triggerId: 'w', backfill: { start: '2019-01-01' } }), 400);
    await api('/api/v1/triggers', apiRequest('PUT', { namespace: 'zoomcamp', flowId: 'taxi' }), 400);
    const anonymous = await app.request('/api/v1/triggers/search');
    expect(anonymous.status).toBe(401);
  });

  it("takes the dashboard's form as well: dates without offset are UTC", async () => {
    await publisher.only(TAXI);
    const form = new URLSearchParams({ ...TAXI_TRIGGER, start: '2017-01-01T00:00', end: '2017-02-01T09:00' });
    const res = await app.request('/api/v1/triggers', {
      method: 'PUT',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as TriggerView).backfill).toMatchObject({ start: '2017-01-01T00:00:00.000Z', end: '2017-02-01T09:00:00.000Z', total: 2 });
    await api('/api/v1/triggers/backfill/delete', apiRequest('POST', TAXI_TRIGGER));
  });

  it('disables and enables a trigger through the API', async () => {
    await publisher.only(scheduledFlow('toggled', 'cron: "0 * * * *"', { namespace: 'zoomcamp' }));
    const clock = new ManualClock('2024-05-10T12:30:00Z');
    const { scheduler } = await testScheduler(database, clock, { engine });
    await tickAndSettle(scheduler);
    const ref = { namespace: 'zoomcamp', flowId: 'toggled', triggerId: 'schedule' };
    expect((await api<TriggerView>('/api/v1/triggers', apiRequest('PUT', { ...ref, disabled: true }))).disabled).toBe(true);
    clock.set('2024-05-10T15:30:00Z');
    await tickAndSettle(scheduler);
    expect(await executionsOf(database.db, 'toggled')).toHaveLength(0);
    await api('/api/v1/triggers', apiRequest('PUT', { ...ref, disabled: false }));
    await tickAndSettle(scheduler);
    expect(await executionsOf(database.db, 'toggled')).toHaveLength(0);
    clock.set('2024-05-10T16:00:00Z');
    await tickAndSettle(scheduler);
    expect((await executionsOf(database.db, 'toggled')).map((e) => e.trigger?.date)).toEqual(['2024-05-10T16:00:00Z']);
    const perFlow = await api<{ results: TriggerView[] }>('/api/v1/triggers/zoomcamp/toggled', apiRequest('GET'));
    expect(perFlow.results.map((t) => t.triggerId)).toEqual(['schedule']);
  });
});
