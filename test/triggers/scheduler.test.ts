import { and, eq, sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { executions, triggers, type Database } from '../../db/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import {
  executionsOf, firedDates, FlowPublisher, ManualClock, scheduledFlow, testScheduler, tickAndSettle, triggerRow,
} from './support.ts';

describeEachDatabase('scheduler', (open) => {
  let database: Database;
  let publisher: FlowPublisher;

  beforeAll(async () => {
    database = await open();
    publisher = new FlowPublisher(database.db);
  });

  it('fires each date once when it is due, with trigger.date/next/previous, rendered inputs and labels', async () => {
    await publisher.only(
      scheduledFlow('quarter', 'cron: "*/15 * * * *"\ninputs:\n  at: "{{ trigger.date | date(\'HH:mm\') }}"\nlabels:\n  origin: "{{ flow.id }}"', {
        extra: 'labels:\n  team: data\ninputs:\n  - id: at\n    type: STRING',
      }),
    );
    const clock = new ManualClock('2024-03-01T10:07:00Z');
    const { scheduler, logs } = await testScheduler(database, clock);
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'quarter')).toEqual([]);
    const row = await triggerRow(database.db, 'quarter', 'schedule');
    expect(new Date(row!.nextDate!).toISOString()).toBe('2024-03-01T10:15:00.000Z');

    clock.set('2024-03-01T10:14:59.999Z');
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'quarter')).toEqual([]);
    clock.set('2024-03-01T10:15:00Z');
    await tickAndSettle(scheduler);
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'quarter')).toEqual(['2024-03-01T10:15:00Z']);
    clock.set('2024-03-01T10:30:00.400Z');
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'quarter')).toEqual(['2024-03-01T10:15:00Z', '2024-03-01T10:30:00Z']);

    const [, second] = await executionsOf(database.db, 'quarter');
    expect(second.trigger).toEqual({
      id: 'schedule',
      type: 'io.kestra.plugin.core.trigger.Schedule',
      date: '2024-03-01T10:30:00Z',
      next: '2024-03-01T10:45:00Z',
      previous: '2024-03-01T10:15:00Z',
    });
    expect(second.inputs).toEqual({ at: '10:30' });
    expect(second.labels).toEqual(expect.arrayContaining([{ key: 'team', value: 'data' }, { key: 'origin', value: 'quarter' }]));
    expect(second.state.current).toBe('SUCCESS');
    expect(second.flowRevision).toBe(1);
    expect(second.commitSha).toBe(publisher.sha);
    const after = await triggerRow(database.db, 'quarter', 'schedule');
    expect(new Date(after!.lastDate!).toISOString()).toBe('2024-03-01T10:30:00.000Z');
    expect(new Date(after!.nextDate!).toISOString()).toBe('2024-03-01T10:45:00.000Z');
    expect(after!.executionId).toBe(second.id);
    expect(logs).toEqual([]);
  });

  it('reads the cron in the trigger time zone, across a daylight saving change', async () => {
    await publisher.only(
      scheduledFlow('paris', 'cron: "0 9 * * *"\ntimezone: Europe/Paris\ninputs:\n  local: "{{ trigger.date | date(\'yyyy-MM-dd HH:mm\', timeZone=\'Europe/Paris\') }}"\n  year: "{{ trigger.date | date(\'yyyy\') }}"', {
        extra: 'inputs:\n  - id: local\n    type: STRING\n  - id: year\n    type: STRING',
      }),
    );
    const clock = new ManualClock('2024-03-30T12:00:00Z');
    const { scheduler } = await testScheduler(database, clock);
    await tickAndSettle(scheduler);
    // Summer time starts on March 31st: 09:00 in Paris is 07:00 UTC that day.
    clock.set('2024-03-31T06:59:59Z');
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'paris')).toEqual([]);
    clock.set('2024-03-31T07:00:00Z');
    await tickAndSettle(scheduler);
    const [execution] = await executionsOf(database.db, 'paris');
    expect(execution.trigger).toMatchObject({
      date: '2024-03-31T09:00:00+02:00',
      previous: '2024-03-30T09:00:00+01:00',
      next: '2024-04-01T09:00:00+02:00',
    });
    // As in Kestra, the date filter prints in the server's zone unless given one.
    expect(execution.inputs).toEqual({ local: '2024-03-31 09:00', year: '2024' });
  });

  it('fires second-precision crons (withSeconds) and nicknames', async () => {
    await publisher.only(
      scheduledFlow('seconds', 'cron: "*/20 * * * * *"\nwithSeconds: true'),
      scheduledFlow('hourly', 'cron: "@hourly"'),
      scheduledFlow('daily', 'cron: "@daily"'),
    );
    const clock = new ManualClock('2024-03-01T22:00:05Z');
    const { scheduler } = await testScheduler(database, clock);
    await tickAndSettle(scheduler);
    clock.set('2024-03-01T22:01:00Z');
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'seconds')).toEqual(['2024-03-01T22:00:20Z', '2024-03-01T22:00:40Z', '2024-03-01T22:01:00Z']);
    clock.set('2024-03-02T00:00:00Z');
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'hourly')).toEqual(['2024-03-01T23:00:00Z', '2024-03-02T00:00:00Z']);
    expect(await firedDates(database.db, 'daily')).toEqual(['2024-03-02T00:00:00Z']);
  });

  it('after downtime, recovers every missed date (ALL), the last one (LAST) or none (NONE)', async () => {
    const flow = (id: string, policy?: string) => scheduledFlow(id, `cron: "0 * * * *"${policy ? `\nrecoverMissedSchedules: ${policy}` : ''}`);
    await publisher.only(flow('recover-default'), flow('recover-all', 'ALL'), flow('recover-last', 'LAST'), flow('recover-none', 'NONE'));
    const clock = new ManualClock('2024-03-01T10:30:00Z');
    const before = await testScheduler(database, clock);
    await tickAndSettle(before.scheduler);
    await before.scheduler.stop();

    // Down from 10:30 to 13:45: 11:00, 12:00 and 13:00 were missed. A new scheduler starts.
    clock.set('2024-03-01T13:45:00Z');
    const { scheduler } = await testScheduler(database, clock);
    await tickAndSettle(scheduler);
    const missed = ['2024-03-01T11:00:00Z', '2024-03-01T12:00:00Z', '2024-03-01T13:00:00Z'];
    expect(await firedDates(database.db, 'recover-default')).toEqual(missed);
    expect(await firedDates(database.db, 'recover-all')).toEqual(missed);
    expect(await firedDates(database.db, 'recover-last')).toEqual(['2024-03-01T13:00:00Z']);
    expect(await firedDates(database.db, 'recover-none')).toEqual([]);

    // Then every policy goes on normally.
    clock.set('2024-03-01T14:00:00Z');
    await tickAndSettle(scheduler);
    expect((await firedDates(database.db, 'recover-last')).slice(-1)).toEqual(['2024-03-01T14:00:00Z']);
    expect(await firedDates(database.db, 'recover-none')).toEqual(['2024-03-01T14:00:00Z']);
    expect(await firedDates(database.db, 'recover-all')).toHaveLength(4);
  });

  it('skips dates later than lateMaximumDelay', async () => {
    await publisher.only(scheduledFlow('late', 'cron: "*/10 * * * *"\nlateMaximumDelay: PT15M'));
    const clock = new ManualClock('2024-03-01T10:00:30Z');
    const first = await testScheduler(database, clock);
    await tickAndSettle(first.scheduler);
    clock.set('2024-03-01T11:00:30Z');
    const { scheduler, logs } = await testScheduler(database, clock);
    await tickAndSettle(scheduler);
    // 10:10 to 10:40 are more than 15 minutes late: only 10:50 and 11:00 run.
    expect(await firedDates(database.db, 'late')).toEqual(['2024-03-01T10:50:00Z', '2024-03-01T11:00:00Z']);
    expect(logs.filter((l) => l.includes('lateMaximumDelay'))).toHaveLength(4);
  });

  it('does not evaluate a disabled trigger or flow; enabling it again does not replay the disabled dates', async () => {
    const off = (id: string, extra = '') => scheduledFlow(id, `cron: "0 * * * *"\ndisabled: true${extra}`);
    await publisher.only(off('off-trigger'), off('off-last', '\nrecoverMissedSchedules: LAST'), scheduledFlow('off-flow', 'cron: "0 * * * *"', { extra: 'disabled: true' }));
    const clock = new ManualClock('2024-03-01T10:30:00Z');
    const { scheduler } = await testScheduler(database, clock);
    await tickAndSettle(scheduler);
    clock.set('2024-03-01T13:30:00Z');
    await tickAndSettle(scheduler);
    for (const id of ['off-trigger', 'off-last', 'off-flow']) {
      expect(await firedDates(database.db, id)).toEqual([]);
      expect((await triggerRow(database.db, id, 'schedule'))?.suspended).toBe(true);
    }

    await publisher.only(
      scheduledFlow('off-trigger', 'cron: "0 * * * *"'),
      scheduledFlow('off-last', 'cron: "0 * * * *"\nrecoverMissedSchedules: LAST'),
      scheduledFlow('off-flow', 'cron: "0 * * * *"'),
    );
    clock.set('2024-03-01T14:30:00Z');
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'off-trigger')).toEqual([]);
    expect(await firedDates(database.db, 'off-flow')).toEqual([]);
    // LAST still recovers the latest date, as Kestra does when a trigger is enabled again.
    expect(await firedDates(database.db, 'off-last')).toEqual(['2024-03-01T14:00:00Z']);
    clock.set('2024-03-01T15:00:00Z');
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'off-trigger')).toEqual(['2024-03-01T15:00:00Z']);
    expect(await firedDates(database.db, 'off-flow')).toEqual(['2024-03-01T15:00:00Z']);
    expect((await triggerRow(database.db, 'off-flow', 'schedule'))?.suspended).toBe(false);
  });

  it('fires only the dates whose conditions hold, and gives the true next and previous dates', async () => {
    await publisher.only(
      scheduledFlow('mondays', 'cron: "0 9 * * *"\nconditions:\n  - type: io.kestra.plugin.core.condition.DayWeek\n    dayOfWeek: MONDAY'),
      scheduledFlow(
        'between',
        'cron: "0 9 * * *"\nconditions:\n  - type: io.kestra.plugin.core.condition.DateTimeBetween\n    after: "2024-03-05T09:00:00Z"\n    before: "2024-03-07T09:00:00Z"\n  - type: io.kestra.plugin.core.condition.ExecutionStatus\n    in: [FAILED]',
      ),
    );
    const clock = new ManualClock('2024-03-01T10:00:00Z'); // a Friday
    const { scheduler, logs } = await testScheduler(database, clock);
    await tickAndSettle(scheduler);
    clock.set('2024-03-12T10:00:00Z');
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'mondays')).toEqual(['2024-03-04T09:00:00Z', '2024-03-11T09:00:00Z']);
    const [monday] = await executionsOf(database.db, 'mondays');
    expect(monday.trigger).toMatchObject({ next: '2024-03-11T09:00:00Z', previous: '2024-02-26T09:00:00Z' });
    // Both bounds are inclusive; ExecutionStatus is not about dates, a Schedule ignores it (as Kestra).
    expect(await firedDates(database.db, 'between')).toEqual(['2024-03-05T09:00:00Z', '2024-03-06T09:00:00Z', '2024-03-07T09:00:00Z']);
    expect(logs).toEqual([]);
    expect(new Date((await triggerRow(database.db, 'mondays', 'schedule'))!.nextDate!).toISOString()).toBe('2024-03-13T09:00:00.000Z');
  });

  it('passes over a date whose inputs are invalid, saying why, and goes on', async () => {
    await publisher.only(
      scheduledFlow('bad-inputs', 'cron: "0 * * * *"\ninputs:\n  count: "{{ trigger.date | date(\'HH\') == \'11\' ? \'eleven\' : 1 }}"', {
        extra: 'inputs:\n  - id: count\n    type: INT',
      }),
    );
    const clock = new ManualClock('2024-03-01T10:30:00Z');
    const { scheduler, logs } = await testScheduler(database, clock);
    await tickAndSettle(scheduler);
    clock.set('2024-03-01T12:00:00Z');
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'bad-inputs')).toEqual(['2024-03-01T12:00:00Z']);
    expect(logs.some((l) => l.startsWith('error:') && l.includes('2024-03-01T11:00:00Z'))).toBe(true);
    expect(new Date((await triggerRow(database.db, 'bad-inputs', 'schedule'))!.nextDate!).toISOString()).toBe('2024-03-01T13:00:00.000Z');
  });

  it('resumes after a restart: a new scheduler on the same database neither fires twice nor skips', async () => {
    await publisher.only(scheduledFlow('restart', 'cron: "*/5 * * * *"'));
    const clock = new ManualClock('2024-03-01T10:01:00Z');
    const first = await testScheduler(database, clock);
    for (const at of ['10:01:00', '10:05:00', '10:10:00']) {
      clock.set(`2024-03-01T${at}Z`);
      await tickAndSettle(first.scheduler);
    }
    await first.scheduler.stop();

    const second = await testScheduler(database, clock);
    for (const at of ['10:10:00.500', '10:14:00', '10:15:00', '10:20:00']) {
      clock.set(`2024-03-01T${at}Z`);
      await tickAndSettle(second.scheduler);
    }
    expect(await firedDates(database.db, 'restart')).toEqual(['2024-03-01T10:05:00Z', '2024-03-01T10:10:00Z', '2024-03-01T10:15:00Z', '2024-03-01T10:20:00Z']);
  });

  it('records the execution of a date whose state write was lost (a crash between the two) instead of firing it again', async () => {
    await publisher.only(scheduledFlow('crash', 'cron: "*/5 * * * *"'));
    const clock = new ManualClock('2024-03-01T10:01:00Z');
    const first = await testScheduler(database, clock);
    await tickAndSettle(first.scheduler);
    const stateBefore = await triggerRow(database.db, 'crash', 'schedule');
    clock.set('2024-03-01T10:05:00Z');
    await tickAndSettle(first.scheduler);
    const [fired] = await executionsOf(database.db, 'crash');
    // The process dies after creating the execution, before its trigger state is stored.
    await database.db
      .update(triggers)
      .set({ lastDate: stateBefore!.lastDate, nextDate: stateBefore!.nextDate, executionId: null })
      .where(and(eq(triggers.flowId, 'crash'), eq(triggers.triggerId, 'schedule')));

    clock.set('2024-03-01T10:05:30Z');
    const second = await testScheduler(database, clock);
    await tickAndSettle(second.scheduler);
    expect(await firedDates(database.db, 'crash')).toEqual(['2024-03-01T10:05:00Z']);
    const row = await triggerRow(database.db, 'crash', 'schedule');
    expect(row!.executionId).toBe(fired.id);
    expect(new Date(row!.nextDate!).toISOString()).toBe('2024-03-01T10:10:00.000Z');
  });

  it('picks up triggers from the next sync, and stops those removed from Git', async () => {
    const twoTriggers = (first: boolean) =>
      [
        'id: synced',
        'namespace: tests.triggers',
        'tasks:',
        '  - id: log',
        '    type: io.kestra.plugin.core.log.Log',
        '    message: hi',
        'triggers:',
        ...(first ? ['  - id: first', '    type: io.kestra.plugin.core.trigger.Schedule', '    cron: "0 * * * *"'] : []),
        '  - id: second',
        '    type: io.kestra.plugin.core.trigger.Schedule',
        '    cron: "30 * * * *"',
        '',
      ].join('\n');
    await publisher.only(scheduledFlow('before-sync', 'cron: "0 * * * *"'));
    const clock = new ManualClock('2024-03-01T10:10:00Z');
    const { scheduler } = await testScheduler(database, clock);
    await tickAndSettle(scheduler);
    expect(await triggerRow(database.db, 'synced', 'first')).toBeUndefined();

    await publisher.only(scheduledFlow('before-sync', 'cron: "0 * * * *"'), twoTriggers(true));
    await tickAndSettle(scheduler);
    expect(await triggerRow(database.db, 'synced', 'first')).toBeDefined();
    clock.set('2024-03-01T11:00:00Z');
    await tickAndSettle(scheduler);
    expect(await executionsOf(database.db, 'synced')).toHaveLength(2);

    await publisher.only(scheduledFlow('before-sync', 'cron: "0 * * * *"'), twoTriggers(false));
    await tickAndSettle(scheduler);
    expect(await triggerRow(database.db, 'synced', 'first')).toBeUndefined();
    clock.set('2024-03-01T12:00:00Z');
    await tickAndSettle(scheduler);
    expect((await executionsOf(database.db, 'synced')).map((e) => `${e.trigger?.id} ${e.trigger?.date}`).sort()).toEqual([
      'first 2024-03-01T11:00:00Z',
      'second 2024-03-01T10:30:00Z',
      'second 2024-03-01T11:30:00Z',
    ]);

    // The flow deleted from Git: its trigger's state goes and nothing fires any more.
    await publisher.unpublish('tests.triggers', 'before-sync');
    await tickAndSettle(scheduler);
    expect(await triggerRow(database.db, 'before-sync', 'schedule')).toBeUndefined();
    clock.set('2024-03-01T14:00:00Z');
    await tickAndSettle(scheduler);
    expect(await firedDates(database.db, 'before-sync')).toEqual(['2024-03-01T11:00:00Z', '2024-03-01T12:00:00Z']);
    const [{ n }] = await database.db
      .select({ n: sql<number>`count(*)` })
      .from(executions)
      .where(eq(executions.flowId, 'synced'));
    expect(Number(n)).toBe(5); // second at 12:30 and 13:30
  });
});
