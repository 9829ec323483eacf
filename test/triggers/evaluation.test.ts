import { describe, expect, it } from 'vitest';
import { BackfillRequestError, MAX_BACKFILL_DATES } from '../../engine/index.ts';
import { newBackfill } from '../../engine/scheduler/backfill.ts';
import {
  ConditionEvaluationError, conditionsHold, formatZoned, parseZoned, ScheduleCron, ScheduleDefinitionError, scheduleZone, webhookBody,
  type ConditionContext,
} from '../../engine/triggers/index.ts';

const schedule = (props: Record<string, unknown>) => ScheduleCron.of({ id: 's', type: 'io.kestra.plugin.core.trigger.Schedule', ...props }, 'UTC');
const at = (iso: string) => new Date(iso);

describe('ScheduleCron', () => {
  it('walks dates forward and back, at or after and at or before', () => {
    const cron = schedule({ cron: '0 9 1 * *' });
    expect(cron.next(at('2019-01-01T09:00:00Z'))?.toISOString()).toBe('2019-02-01T09:00:00.000Z');
    expect(cron.atOrAfter(at('2019-01-01T09:00:00Z'))?.toISOString()).toBe('2019-01-01T09:00:00.000Z');
    expect(cron.previous(at('2019-01-01T09:00:00Z'))?.toISOString()).toBe('2018-12-01T09:00:00.000Z');
    expect(cron.atOrBefore(at('2019-01-01T09:00:00Z'))?.toISOString()).toBe('2019-01-01T09:00:00.000Z');
  });

  it('reads the cron in an IANA zone or a fixed offset, and formats dates there', () => {
    const paris = schedule({ cron: '30 0 * * *', timezone: 'Europe/Paris' });
    const date = paris.next(at('2024-01-01T00:00:00Z'))!;
    expect(date.toISOString()).toBe('2024-01-01T23:30:00.000Z');
    expect(paris.format(date)).toBe('2024-01-02T00:30:00+01:00');
    const offset = schedule({ cron: '30 0 * * *', timezone: '-05:30' });
    const shifted = offset.next(at('2024-01-01T00:00:00Z'))!;
    expect(shifted.toISOString()).toBe('2024-01-01T06:00:00.000Z');
    expect(offset.format(shifted)).toBe('2024-01-01T00:30:00-05:30');
  });

  it('takes seconds only with withSeconds, expands nicknames, and changes signature with cron or zone', () => {
    expect(schedule({ cron: '*/15 * * * * *', withSeconds: true }).next(at('2024-01-01T00:00:00Z'))?.toISOString()).toBe('2024-01-01T00:00:15.000Z');
    expect(() => schedule({ cron: '*/15 * * * * *' })).toThrow(ScheduleDefinitionError);
    expect(schedule({ cron: '@monthly' }).next(at('2024-01-15T00:00:00Z'))?.toISOString()).toBe('2024-02-01T00:00:00.000Z');
    expect(() => schedule({ cron: '0 0 * * *', timezone: 'Mars/Olympus' })).toThrow("timezone 'Mars/Olympus'");
    const signatures = new Set([
      schedule({ cron: '0 0 * * *' }).signature,
      schedule({ cron: '0 0 * * *', timezone: 'Europe/Paris' }).signature,
      schedule({ cron: '0 1 * * *' }).signature,
    ]);
    expect(signatures.size).toBe(3);
  });
});

describe('zoned dates', () => {
  it('formats like Java: Z for UTC, the offset elsewhere, milliseconds only when present', () => {
    expect(formatZoned(at('2019-01-01T09:00:00Z'), scheduleZone('UTC'))).toBe('2019-01-01T09:00:00Z');
    expect(formatZoned(at('2024-07-01T09:00:00.250Z'), scheduleZone('America/New_York'))).toBe('2024-07-01T05:00:00.250-04:00');
  });

  it('parses offsets, zone suffixes, and local dates in the zone', () => {
    const paris = scheduleZone('Europe/Paris');
    expect(parseZoned('2019-01-01T00:00:00+01:00', paris)?.toISOString()).toBe('2018-12-31T23:00:00.000Z');
    expect(parseZoned('2019-01-01T00:00:00+0100[Europe/Paris]', paris)?.toISOString()).toBe('2018-12-31T23:00:00.000Z');
    expect(parseZoned('2019-07-01', paris)?.toISOString()).toBe('2019-06-30T22:00:00.000Z');
    expect(parseZoned('2019-01-01 12:30', scheduleZone('UTC'))?.toISOString()).toBe('2019-01-01T12:30:00.000Z');
    expect(parseZoned('yesterday', paris)).toBeUndefined();
  });
});

describe('conditions', () => {
  const context = (trigger: Record<string, unknown>, extra: Partial<ConditionContext> = {}): ConditionContext => ({
    variables: { flow: { id: 'f', namespace: 'n' }, trigger },
    services: {},
    kind: 'schedule',
    now: at('2024-01-01T00:00:00Z'),
    ...extra,
  });
  const monday = context({ date: '2024-03-04T23:30:00-05:00' });

  it('DayWeek reads the local date of trigger.date (or of its `date`)', async () => {
    expect(await conditionsHold([{ type: 'io.kestra.plugin.core.condition.DayWeek', dayOfWeek: 'MONDAY' }], monday)).toBe(true);
    expect(await conditionsHold([{ type: 'io.kestra.plugin.core.condition.DayWeekCondition', dayOfWeek: 'TUESDAY' }], monday)).toBe(false);
    expect(await conditionsHold([{ type: 'io.kestra.plugin.core.condition.DayWeek', dayOfWeek: 'SUNDAY', date: '{{ "2024-03-03" }}' }], monday)).toBe(true);
  });

  it('DateTimeBetween is inclusive and needs offsets', async () => {
    const between = (after?: string, before?: string) => [{ type: 'io.kestra.plugin.core.condition.DateTimeBetween', after, before }];
    const date = context({ date: '2024-03-05T09:00:00Z' });
    expect(await conditionsHold(between('2024-03-05T09:00:00Z'), date)).toBe(true);
    expect(await conditionsHold(between(undefined, '2024-03-05T10:00:00+01:00'), date)).toBe(true);
    expect(await conditionsHold(between('2024-03-05T09:00:01Z'), date)).toBe(false);
    await expect(conditionsHold(between('2024-03-05'), date)).rejects.toThrow(ConditionEvaluationError);
  });

  it('Expression, Or and Not; execution conditions only where there is an execution', async () => {
    const expr = (e: string) => ({ type: 'io.kestra.plugin.core.condition.Expression', expression: e });
    expect(await conditionsHold([{ type: 'io.kestra.plugin.core.condition.Or', conditions: [expr('false'), expr('{{ trigger.ok }}')] }], context({ ok: true }))).toBe(true);
    expect(await conditionsHold([{ type: 'io.kestra.plugin.core.condition.Not', conditions: [expr('{{ trigger.ok }}')] }], context({ ok: true }))).toBe(false);

    const status = { type: 'io.kestra.plugin.core.condition.ExecutionStatus', in: ['FAILED'] };
    // A Schedule ignores conditions that are not about dates, as Kestra does.
    expect(await conditionsHold([status], context({}))).toBe(true);
    const execution = context({}, { kind: 'execution', execution: { namespace: 'n', flowId: 'f', state: 'CREATED' } });
    expect(await conditionsHold([status], execution)).toBe(false);
    expect(await conditionsHold([{ type: 'io.kestra.plugin.core.condition.ExecutionNamespace', namespace: 'n', comparison: 'PREFIX' }], execution)).toBe(true);
    expect(await conditionsHold([{ type: 'io.kestra.plugin.core.condition.ExecutionFlow', namespace: 'n', flowId: 'g' }], execution)).toBe(false);
    await expect(conditionsHold([status], context({}, { kind: 'execution' }))).rejects.toThrow('needs an execution');
    await expect(conditionsHold([{ type: 'io.kestra.plugin.core.condition.MultipleCondition', conditions: {} }], execution)).rejects.toThrow('cannot be evaluated');
  });
});

describe('webhookBody', () => {
  it('parses JSON objects and arrays, keeps other text, base64-encodes binary bodies', () => {
    expect(webhookBody(Buffer.from('{"a":1}'), 'application/json')).toEqual({ a: 1 });
    expect(webhookBody(Buffer.from(' [1,2] '), undefined)).toEqual([1, 2]);
    expect(webhookBody(Buffer.from('"text"'), 'application/json')).toBe('"text"');
    expect(webhookBody(Buffer.from('a=1&b=2'), 'application/x-www-form-urlencoded')).toBe('a=1&b=2');
    expect(webhookBody(Buffer.from([0xff, 0x00, 0x10]), 'application/octet-stream')).toBe('/wAQ');
    expect(webhookBody(null, undefined)).toBeNull();
  });
});

describe('newBackfill', () => {
  const monthly = schedule({ cron: '0 9 1 * *' });

  it("counts the seed's 2019 monthly backfill as 12 dates; end defaults to now", async () => {
    expect(await newBackfill({ start: '2019-01-01', end: '2019-12-31' }, monthly, at('2024-01-01T00:00:00Z'))).toMatchObject({ total: 12, done: 0, ended: false });
    expect(await newBackfill({ start: '2023-10-15T00:00:00Z' }, monthly, at('2024-01-01T09:00:00Z'))).toMatchObject({ total: 3, end: '2024-01-01T09:00:00.000Z' });
    expect(await newBackfill({ start: '2019-01-02', end: '2019-01-31' }, monthly, at('2024-01-01T00:00:00Z'))).toMatchObject({ total: 0, ended: true });
  });

  it('refuses bad requests, naming the field', async () => {
    const now = at('2024-01-01T00:00:00Z');
    await expect(newBackfill({}, monthly, now)).rejects.toThrow('backfill.start must be');
    await expect(newBackfill({ start: '2019-01-01', inputs: [1] }, monthly, now)).rejects.toThrow('backfill.inputs');
    await expect(newBackfill({ start: '2000-01-01T00:00:00Z' }, schedule({ cron: '* * * * * *', withSeconds: true }), now)).rejects.toThrow(
      `more than ${MAX_BACKFILL_DATES}`,
    );
    await expect(newBackfill({ start: 'soon' }, monthly, now)).rejects.toThrow(BackfillRequestError);
  });
});
