import { Cron } from 'croner';
import type { TriggerDef } from '../flow/types.ts';
import { Enum, PluginRefList, Type } from '../contract/index.ts';
import { durationSchema, triggerInputsSchema } from './schemas.ts';
import { defineTrigger, type DefinitionIssue } from './types.ts';

/** Kestra's cron nicknames and the five-field expression each stands for. */
const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/**
 * The expression to hand to croner for a Schedule's `cron`: nicknames expanded, and a seconds field
 * prepended to five-field expressions so croner never guesses. Throws with a readable reason when the
 * expression is not valid for Kestra (five fields, or six with `withSeconds: true`).
 */
export function croneriseCron(cron: string, withSeconds = false): string {
  const trimmed = cron.trim();
  const expanded = NICKNAMES[trimmed.toLowerCase()];
  if (expanded) return `0 ${expanded}`;
  if (trimmed.startsWith('@')) {
    throw new Error(`unknown cron nickname '${trimmed}' (known: ${Object.keys(NICKNAMES).join(', ')})`);
  }
  const fields = trimmed.split(/\s+/).filter(Boolean);
  const expected = withSeconds ? 6 : 5;
  if (fields.length !== expected) {
    throw new Error(
      withSeconds
        ? `expected 6 fields (second minute hour day-of-month month day-of-week), got ${fields.length}`
        : `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}` +
          (fields.length === 6 ? '; set withSeconds: true for a seconds field' : ''),
    );
  }
  const pattern = withSeconds ? fields.join(' ') : `0 ${fields.join(' ')}`;
  try {
    new Cron(pattern, { paused: true });
  } catch (error) {
    throw new Error(String((error as Error).message).replace(/^CronPattern: /, ''));
  }
  return pattern;
}

/** True when `zone` is an IANA zone id (`Europe/Paris`), `UTC`/`Z`, or a fixed offset (`+02:00`, `UTC+2`). */
export function isValidTimeZone(zone: string): boolean {
  if (/^(?:Z|(?:UTC|GMT|UT)?[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?)$/.test(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** io.kestra.plugin.core.trigger.Schedule: start an execution on a cron schedule. */
export const schedule = defineTrigger({
  type: 'io.kestra.plugin.core.trigger.Schedule',
  aliases: ['io.kestra.core.models.triggers.types.Schedule'],
  title: 'Start an execution on a cron schedule',
  description: "Starts an execution at each date of a cron expression (five fields, six with `withSeconds`, or a nickname such as @daily) in `timezone` (the server's by default), with `inputs`. Missed dates are recovered as `recoverMissedSchedules` says; a backfill replays a past period. Executions see the date as `trigger.date`.",
  properties: Type.Object({
    cron: Type.String({ minLength: 1, description: 'The cron expression, e.g. "0 9 * * 1-5" or @hourly.' }),
    withSeconds: Type.Optional(Type.Boolean({ description: 'The expression has a seconds field first.' })),
    timezone: Type.Optional(Type.String({ description: 'An IANA zone id, e.g. Europe/Paris.' })),
    inputs: Type.Optional(triggerInputsSchema()),
    lateMaximumDelay: Type.Optional(durationSchema()),
    recoverMissedSchedules: Type.Optional(Enum(['ALL', 'LAST', 'NONE'], { description: 'Which missed dates to run after a pause.' })),
    backfill: Type.Optional(Type.Object({
      start: Type.Optional(Type.String()),
      end: Type.Optional(Type.String()),
      currentDate: Type.Optional(Type.String()),
      paused: Type.Optional(Type.Boolean()),
      inputs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      labels: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Array(Type.Unknown())])),
      previousNextExecutionDate: Type.Optional(Type.String()),
    }, { additionalProperties: false, deprecated: true })),
    /** Deprecated name of `conditions`. */
    scheduleConditions: Type.Optional(PluginRefList('condition', { deprecated: true, description: "Deprecated: use 'conditions'." })),
  }),
  outputs: Type.Object({
    date: Type.String({ description: 'The scheduled date.' }),
    next: Type.String({ description: 'The next scheduled date.' }),
    previous: Type.String({ description: 'The previous scheduled date.' }),
  }),
  examples: [{ title: 'Weekdays at nine, Paris time', code: "id: mornings\ntype: io.kestra.plugin.core.trigger.Schedule\ncron: '0 9 * * 1-5'\ntimezone: Europe/Paris" }],
  validate(def: TriggerDef): DefinitionIssue[] {
    const issues: DefinitionIssue[] = [];
    if (typeof def.cron === 'string') {
      try {
        croneriseCron(def.cron, def.withSeconds === true);
      } catch (error) {
        issues.push({ path: ['cron'], message: `invalid cron expression '${def.cron}': ${(error as Error).message}` });
      }
    }
    if (typeof def.timezone === 'string' && !isValidTimeZone(def.timezone)) {
      issues.push({ path: ['timezone'], message: `timezone '${def.timezone}' is not a valid time-zone ID` });
    }
    if (def.scheduleConditions !== undefined) {
      issues.push({ path: ['scheduleConditions'], message: "'scheduleConditions' is deprecated, use 'conditions'" });
    }
    return issues;
  },
});
