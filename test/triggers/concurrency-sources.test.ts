/**
 * Flow concurrency holds whichever way executions start: here the Schedule trigger and the Flow trigger
 * (manual, subflow and webhook starts are covered in test/concurrency and webhook-concurrency.test.ts).
 */
import { beforeAll, expect, it } from 'vitest';
import type { Database } from '../../db/index.ts';
import { FlowTriggerDispatcher, type Engine } from '../../engine/index.ts';
import { FlowStore } from '../../sync/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { maxOverlap, runningInterval } from '../support/intervals.ts';
import { executionsOf, flowEngine, FlowPublisher, ManualClock, scheduledFlow, testApp, testScheduler } from './support.ts';

const SLEEP = '  - id: wait\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.3S';

describeEachDatabase('concurrency of triggered executions', (open) => {
  let database: Database;
  let engine: Engine;
  let publisher: FlowPublisher;

  beforeAll(async () => {
    database = await open();
    engine = await flowEngine(database.db);
    publisher = new FlowPublisher(database.db);
  });

  it('Schedule: a date that fires while the previous execution runs is CANCELLED by behavior CANCEL', async () => {
    await publisher.only(
      scheduledFlow('every_minute', 'cron: "* * * * *"', { namespace: 'tests.limits', tasks: SLEEP, extra: 'concurrency:\n  limit: 1\n  behavior: CANCEL' }),
    );
    const clock = new ManualClock('2026-01-01T00:00:30Z');
    const { scheduler } = await testScheduler(database, clock, { engine });
    await scheduler.tick();
    clock.advance(60_000);
    await scheduler.tick();
    clock.advance(60_000);
    await scheduler.tick();
    await scheduler.idle();
    const runs = await executionsOf(database.db, 'every_minute');
    const states = runs.map((r) => r.state.current);
    expect(states.filter((s) => s === 'SUCCESS').length).toBeGreaterThanOrEqual(1);
    expect(states.filter((s) => s === 'CANCELLED').length).toBeGreaterThanOrEqual(1);
    expect(states.every((s) => s === 'SUCCESS' || s === 'CANCELLED')).toBe(true);
  });

  it('Flow trigger: downstream executions queue behind each other with behavior QUEUE', async () => {
    const upstream = 'id: up\nnamespace: tests.limits\ntasks:\n  - id: hi\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n';
    const downstream = `id: down
namespace: tests.limits
concurrency:
  limit: 1
tasks:
${SLEEP}
triggers:
  - id: after_up
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: tests.limits
        flowId: up
`;
    await publisher.only(upstream, downstream);
    const flows = new FlowStore(database.db);
    const dispatcher = new FlowTriggerDispatcher({ db: database.db, engine, flows: { latestRevisions: () => flows.latestRevisions(), ...flows.flowSource() } });
    dispatcher.start();
    try {
      const up = (await flows.flowSource().find('tests.limits', 'up'))!;
      await Promise.all([1, 2, 3].map(() => engine.execute({ flow: up.flow, revision: up.revision })));
      await dispatcher.idle();
      const downs = await executionsOf(database.db, 'down');
      expect(downs.map((d) => d.state.current)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
      expect(downs.filter((d) => d.state.histories.some((h) => h.state === 'QUEUED')).length).toBeGreaterThanOrEqual(2);
      expect(maxOverlap(downs.map(runningInterval))).toBe(1);
    } finally {
      await dispatcher.stop();
    }
  });

  it('the flow page shows the limit with how many executions run and wait', async () => {
    const limited = scheduledFlow('shown', 'cron: "0 0 1 1 *"', { namespace: 'tests.limits', extra: 'concurrency:\n  limit: 1' });
    await publisher.only(limited);
    const gate = engine.resources.concurrency;
    const holder = (id: string) => ({ id, namespace: 'tests.limits', flowId: 'shown' });
    for (const id of ['x1', 'x2', 'x3']) await gate.admit(holder(id), { limit: 1 });
    const app = await testApp(database.db, engine, { open: true });
    const html = await (await app.request('/ui/flows/tests.limits/shown')).text();
    expect(html).toContain('concurrency: limit 1, QUEUE · 1 running, 2 queued');
    for (const id of ['x1', 'x2', 'x3']) await gate.release(holder(id), { limit: 1 });
    expect(await gate.slotsOf('tests.limits', 'shown')).toEqual([]);
  });
});
