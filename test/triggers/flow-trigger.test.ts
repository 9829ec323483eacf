/**
 * Flow triggers end to end on both databases: flows made live as a sync makes them, executions run by
 * the engine, the dispatcher starting downstream flows with `trigger.*` and inputs from upstream outputs.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { executions, type Database } from '../../db/index.ts';
import { createEngine, FlowTriggerDispatcher, type Engine, type Execution } from '../../engine/index.ts';
import { FlowStore } from '../../sync/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { executionsOf, flowEngine, FlowPublisher } from './support.ts';

const upstream = (id: string, extra = '') => `id: ${id}
namespace: team.data
${extra}
tasks:
  - id: count
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.rows ?? 7 }}"
  - id: maybe_fail
    type: io.kestra.plugin.core.execution.Fail
    runIf: "{{ inputs.fail ?? false }}"
    errorMessage: asked to fail
inputs:
  - id: rows
    type: INT
    required: false
  - id: fail
    type: BOOLEAN
    required: false
outputs:
  - id: rows
    type: INT
    value: "{{ outputs.count.value }}"
`;

const REPORT = `id: report
namespace: team.reports
inputs:
  - id: rows
    type: INT
tasks:
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.rows }} rows from {{ trigger.namespace }}.{{ trigger.flowId }} {{ trigger.executionId }} {{ trigger.state }}"
triggers:
  - id: after_extract
    type: io.kestra.plugin.core.trigger.Flow
    inputs:
      rows: "{{ trigger.outputs.rows }}"
    states: [SUCCESS]
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: team.data
        flowId: extract
`;

const ALERT = `id: alert
namespace: team.reports
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.flowId }} ended {{ trigger.state }}"
triggers:
  - id: on_failure
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [FAILED, KILLED]
      - type: io.kestra.plugin.core.condition.ExecutionNamespace
        namespace: team.data
`;

const BOTH = `id: both_loaded
namespace: team.reports
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "both loaded, last {{ trigger.flowId }}"
triggers:
  - id: both
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: both
      flows:
        - namespace: team.data
          flowId: extract
          states: [SUCCESS]
        - namespace: team.data
          flowId: load
          states: [SUCCESS]
      timeWindow:
        type: SLIDING_WINDOW
        window: PT1H
`;

describeEachDatabase('Flow triggers', (open) => {
  let database: Database;
  let engine: Engine;
  let dispatcher: FlowTriggerDispatcher;
  let flows: FlowStore;

  beforeAll(async () => {
    database = await open();
    await new FlowPublisher(database.db).only(upstream('extract'), upstream('load'), REPORT, ALERT, BOTH);
    engine = await flowEngine(database.db);
    flows = new FlowStore(database.db);
    // Swept by hand (the tests that need it): a timer's sweep would race them for the rows they make due.
    dispatcher = new FlowTriggerDispatcher({ db: database.db, engine, flows: { latestRevisions: () => flows.latestRevisions(), ...flows.flowSource() }, sweepMs: 0 });
    dispatcher.start();
  });

  afterAll(async () => {
    await dispatcher?.stop();
  });

  beforeEach(async () => {
    await dispatcher.idle();
    await database.db.delete(executions).where(eq(executions.namespace, 'team.reports'));
  });

  async function runUpstream(flowId: string, inputs: Record<string, unknown> = {}): Promise<Execution> {
    const resolved = await flows.flowSource().find('team.data', flowId);
    const execution = await engine.execute({ flow: resolved!.flow, revision: resolved!.revision, inputs });
    await dispatcher.idle();
    return execution;
  }

  it('starts the downstream flow with trigger.* and inputs from the upstream outputs', async () => {
    const up = await runUpstream('extract', { rows: 42 });
    expect(up.state.current).toBe('SUCCESS');
    const [report] = await executionsOf(database.db, 'report');
    expect(report.state.current).toBe('SUCCESS');
    expect(report.inputs).toEqual({ rows: 42 });
    expect(report.trigger).toMatchObject({ id: 'after_extract', type: 'io.kestra.plugin.core.trigger.Flow', executionId: up.id, namespace: 'team.data', flowId: 'extract', state: 'SUCCESS' });
    expect(report.taskRunList[0].outputs?.value).toBe(`42 rows from team.data.extract ${up.id} SUCCESS`);
    // The ExecutionFlow condition: `load` ending does not start `report`.
    await runUpstream('load');
    expect((await executionsOf(database.db, 'report')).length).toBe(1);
  });

  it('listens only to its states and conditions: a failure starts the alert, not the report', async () => {
    const up = await runUpstream('extract', { fail: true });
    expect(up.state.current).toBe('FAILED');
    expect(await executionsOf(database.db, 'report')).toEqual([]);
    const alerts = await executionsOf(database.db, 'alert');
    expect(alerts.map((a) => a.trigger?.executionId)).toEqual([up.id]);
    expect(alerts[0].state.current).toBe('SUCCESS');
  });

  it('preconditions: starts once both upstream flows succeeded in the window, then waits for both again', async () => {
    await runUpstream('extract');
    expect(await executionsOf(database.db, 'both_loaded')).toEqual([]);
    await runUpstream('extract');
    expect(await executionsOf(database.db, 'both_loaded')).toEqual([]);
    const load = await runUpstream('load');
    const fired = await executionsOf(database.db, 'both_loaded');
    expect(fired.length).toBe(1);
    expect(fired[0].trigger).toMatchObject({ flowId: 'load', executionId: load.id });
    // resetOnSuccess: one more `load` alone is not enough.
    await runUpstream('load');
    expect((await executionsOf(database.db, 'both_loaded')).length).toBe(1);
    await runUpstream('extract');
    expect((await executionsOf(database.db, 'both_loaded')).length).toBe(2);
  });

  it('upstream executions ending at once in two processes start the downstream flow once', async () => {
    const second = await flowEngine(database.db);
    const other = new FlowTriggerDispatcher({ db: database.db, engine: second, flows: { latestRevisions: () => flows.latestRevisions(), ...flows.flowSource() } });
    other.start();
    try {
      const extract = (await flows.flowSource().find('team.data', 'extract'))!;
      const load = (await flows.flowSource().find('team.data', 'load'))!;
      // Reset the window: both met once more starts one execution.
      await runUpstream('extract');
      await runUpstream('load');
      const before = (await executionsOf(database.db, 'both_loaded')).length;
      await Promise.all([
        engine.execute({ flow: extract.flow, revision: extract.revision }),
        second.execute({ flow: load.flow, revision: load.revision }),
      ]);
      await Promise.all([dispatcher.idle(), other.idle()]);
      expect((await executionsOf(database.db, 'both_loaded')).length).toBe(before + 1);
    } finally {
      await other.stop();
    }
  });

  describe('ends are not lost with the process that ran them', () => {
    const dueOf = async (id: string) =>
      (await database.db.select({ due: executions.flowTriggersDueAt }).from(executions).where(eq(executions.id, id)))[0]?.due ?? null;
    const makeOverdue = (id: string) =>
      database.db.update(executions).set({ flowTriggersDueAt: sql`now() - interval '1 second'` }).where(eq(executions.id, id));

    it('an end is stored due for Flow triggers while one is live, and cleared once evaluated', async () => {
      const up = await runUpstream('extract', { rows: 3 });
      expect(await dueOf(up.id)).toBeNull();
      expect((await executionsOf(database.db, 'report')).map((r) => r.trigger?.executionId)).toEqual([up.id]);
    });

    it('an end its process never evaluated (it died) is evaluated by a sweep elsewhere, once', async () => {
      // A process that stores ends as due and dies before evaluating them: an engine whose dispatcher never ran.
      const dying = await flowEngine(database.db);
      dying.watchEndsForFlowTriggers({ watching: () => true, marked: () => {} });
      const extract = (await flows.flowSource().find('team.data', 'extract'))!;
      const up = await dying.execute({ flow: extract.flow, revision: extract.revision, inputs: { rows: 5 } });
      expect(up.state.current).toBe('SUCCESS');
      expect(await dueOf(up.id)).not.toBeNull();
      expect(await executionsOf(database.db, 'report')).toEqual([]);
      // Not yet: the process that ran it gets its chance first.
      expect(await dispatcher.sweep()).toBe(0);
      await makeOverdue(up.id);
      expect(await dispatcher.sweep()).toBe(1);
      await dispatcher.idle();
      const reports = await executionsOf(database.db, 'report');
      expect(reports.map((r) => [r.trigger?.executionId, r.inputs.rows, r.state.current])).toEqual([[up.id, 5, 'SUCCESS']]);
      expect(await dueOf(up.id)).toBeNull();
      expect(await dispatcher.sweep()).toBe(0);
      expect((await executionsOf(database.db, 'report')).length).toBe(1);
    });

    it('an end evaluated again (its clear was lost) does not start the downstream flow twice', async () => {
      const up = await runUpstream('extract', { rows: 8 });
      expect((await executionsOf(database.db, 'report')).length).toBe(1);
      await makeOverdue(up.id);
      expect(await dispatcher.sweep()).toBe(1);
      await dispatcher.idle();
      expect((await executionsOf(database.db, 'report')).map((r) => r.trigger?.executionId)).toEqual([up.id]);
      expect(await dueOf(up.id)).toBeNull();
    });

    it('an orphan killed through a server (no evaluator there) is evaluated by a sweep: its alert starts', async () => {
      const server = createEngine({
        db: database.db, dataDir: await mkdtemp(join(tmpdir(), 'baton-server-')), flows: flows.flowSource(), env: {}, role: { runsExecutions: false },
      });
      const extract = (await flows.flowSource().find('team.data', 'extract'))!;
      const created = await server.create({ flow: extract.flow, revision: extract.revision });
      // Left to the workers (none runs here), and killed before any claims it.
      await server.start(created);
      const { execution } = created;
      const killed = await server.requestKill(execution.id);
      expect(killed.state.current).toBe('KILLED');
      expect(await dueOf(execution.id)).not.toBeNull();
      expect(await dispatcher.sweep()).toBe(1);
      await dispatcher.idle();
      const alerts = await executionsOf(database.db, 'alert');
      expect(alerts.map((a) => [a.trigger?.executionId, a.trigger?.state])).toEqual([[execution.id, 'KILLED']]);
      expect(await dueOf(execution.id)).toBeNull();
    });

    it('without a live Flow trigger, ends are not marked (no write to clear)', async () => {
      const quiet = await flowEngine(database.db);
      const none = new FlowTriggerDispatcher({ db: database.db, engine: quiet, flows: { latestRevisions: async () => new Map(), find: async () => undefined }, sweepMs: 0 });
      none.start();
      try {
        const extract = (await flows.flowSource().find('team.data', 'extract'))!;
        await quiet.execute({ flow: extract.flow, revision: extract.revision });
        await none.idle();
        const second = await quiet.execute({ flow: extract.flow, revision: extract.revision });
        expect(await dueOf(second.id)).toBeNull();
      } finally {
        await none.stop();
      }
    });
  });
});
