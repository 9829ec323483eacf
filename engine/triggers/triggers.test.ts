import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import {
  allConditionTypeNames, allConditions, allTriggerTypeNames, allTriggers, croneriseCron, findCondition, findTrigger, isValidTimeZone,
} from './index.ts';

describe('trigger registry', () => {
  it('finds the three trigger types by type and legacy alias', () => {
    expect(allTriggers().map((t) => t.type)).toEqual([
      'io.kestra.plugin.core.trigger.Schedule',
      'io.kestra.plugin.core.trigger.Webhook',
      'io.kestra.plugin.core.trigger.Flow',
    ]);
    for (const legacy of ['Schedule', 'Webhook', 'Flow']) {
      expect(findTrigger(`io.kestra.core.models.triggers.types.${legacy}`)?.type).toBe(`io.kestra.plugin.core.trigger.${legacy}`);
    }
    expect(findTrigger('io.kestra.plugin.core.trigger.Poll')).toBeUndefined();
    expect(allTriggerTypeNames()).toHaveLength(6);
  });

  it('finds condition types by type and aliases', () => {
    for (const name of ['DayWeek', 'DateTimeBetween', 'ExecutionStatus', 'ExecutionFlow', 'ExecutionNamespace']) {
      expect(findCondition(`io.kestra.plugin.core.condition.${name}`)?.type).toBe(`io.kestra.plugin.core.condition.${name}`);
      expect(findCondition(`io.kestra.plugin.core.condition.${name}Condition`)?.type).toBe(`io.kestra.plugin.core.condition.${name}`);
      expect(findCondition(`io.kestra.core.models.conditions.types.${name}Condition`)?.type).toBe(`io.kestra.plugin.core.condition.${name}`);
    }
    expect(new Set(allConditionTypeNames()).size).toBe(allConditionTypeNames().length);
    expect(allConditions().length).toBeGreaterThanOrEqual(5);
  });

  it('gives every type a title and a schema for each required property', () => {
    for (const t of [...allTriggers(), ...allConditions()]) {
      expect(t.title.length).toBeGreaterThan(0);
      for (const property of t.properties.required ?? []) expect(t.properties.properties[property], `${t.type}.${property}`).toBeDefined();
    }
  });
});

describe('croneriseCron', () => {
  it('prepends a seconds field to five-field expressions, as croner reads six', () => {
    expect(croneriseCron('*/5 * * * *')).toBe('0 */5 * * * *');
    expect(croneriseCron('  0 9 * * MON-FRI ')).toBe('0 0 9 * * MON-FRI');
    expect(croneriseCron('*/10 * * * * *', true)).toBe('*/10 * * * * *');
  });

  it('expands Kestra nicknames', () => {
    expect(croneriseCron('@daily')).toBe('0 0 0 * * *');
    expect(croneriseCron('@midnight')).toBe('0 0 0 * * *');
    expect(croneriseCron('@hourly')).toBe('0 0 * * * *');
    expect(croneriseCron('@weekly')).toBe('0 0 0 * * 0');
    expect(croneriseCron('@monthly')).toBe('0 0 0 1 * *');
    expect(croneriseCron('@yearly')).toBe(croneriseCron('@annually'));
  });

  it('yields expressions croner schedules as Kestra would', () => {
    const next = new Cron(croneriseCron('30 2 * * *'), { timezone: 'UTC' }).nextRun(new Date('2024-01-01T00:00:00Z'));
    expect(next?.toISOString()).toBe('2024-01-01T02:30:00.000Z');
  });

  it('refuses the wrong number of fields, bad values and unknown nicknames', () => {
    expect(() => croneriseCron('* * * *')).toThrow('expected 5 fields');
    expect(() => croneriseCron('0 0 * * * *')).toThrow('set withSeconds: true');
    expect(() => croneriseCron('0 0 * * *', true)).toThrow('expected 6 fields');
    expect(() => croneriseCron('0 24 * * *')).toThrow(/hour/);
    expect(() => croneriseCron('@reboot')).toThrow("unknown cron nickname '@reboot'");
  });
});

describe('isValidTimeZone', () => {
  it('accepts IANA ids, UTC and fixed offsets', () => {
    for (const zone of ['Europe/Paris', 'America/New_York', 'UTC', 'Z', '+02:00', '-0530', 'UTC+2', 'GMT-03:00']) {
      expect(isValidTimeZone(zone), zone).toBe(true);
    }
  });

  it('refuses anything else', () => {
    for (const zone of ['Europe/Pariss', 'Paris', 'CEST+', '', '+2:0:0:0']) expect(isValidTimeZone(zone), zone).toBe(false);
  });
});

describe('trigger validate()', () => {
  const schedule = findTrigger('io.kestra.plugin.core.trigger.Schedule')!;
  const webhook = findTrigger('io.kestra.plugin.core.trigger.Webhook')!;
  const flow = findTrigger('io.kestra.plugin.core.trigger.Flow')!;

  it('Schedule: cron, timezone, deprecated scheduleConditions', () => {
    expect(schedule.validate?.({ id: 's', type: schedule.type, cron: '0 0 * * *', timezone: 'Asia/Tokyo' })).toEqual([]);
    expect(schedule.validate?.({ id: 's', type: schedule.type, cron: '0 0 * *', timezone: 'Mars/Base', scheduleConditions: [] })).toEqual([
      { path: ['cron'], message: "invalid cron expression '0 0 * *': expected 5 fields (minute hour day-of-month month day-of-week), got 4" },
      { path: ['timezone'], message: "timezone 'Mars/Base' is not a valid time-zone ID" },
      { path: ['scheduleConditions'], message: "'scheduleConditions' is deprecated, use 'conditions'" },
    ]);
  });

  it('Webhook: content type, returnOutputs without wait', () => {
    expect(webhook.validate?.({ id: 'w', type: webhook.type, key: 'k', responseContentType: 'text/plain', wait: true, returnOutputs: true })).toEqual([]);
    expect(webhook.validate?.({ id: 'w', type: webhook.type, key: 'k', responseContentType: 'text/xml', returnOutputs: true })).toHaveLength(2);
  });

  it('Flow: time window rules per window type', () => {
    const window = (timeWindow: Record<string, unknown>) => flow.validate?.({ id: 'f', type: flow.type, preconditions: { timeWindow } }) ?? [];
    expect(window({ window: 'PT1H', windowAdvance: 'PT0S' })).toEqual([]);
    expect(window({ deadline: '10:00:00' })).toEqual([{ path: ['preconditions', 'timeWindow', 'deadline'], message: "a time window of type DURATION_WINDOW cannot have 'deadline'" }]);
    expect(window({ type: 'DAILY_TIME_DEADLINE', deadline: '10:00:00' })).toEqual([]);
    expect(window({ type: 'DAILY_TIME_WINDOW', startTime: '08:00:00', endTime: '10:00:00' })).toEqual([]);
    expect(window({ type: 'DAILY_TIME_WINDOW' }).map((i) => (typeof i === 'string' ? i : i.message))).toEqual([
      "a time window of type DAILY_TIME_WINDOW needs 'startTime'",
      "a time window of type DAILY_TIME_WINDOW needs 'endTime'",
    ]);
  });
});
