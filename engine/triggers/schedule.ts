import { Cron } from 'croner';
import type { TriggerDef } from '../flow/types.ts';
import { conditionListSchema, durationSchema, triggerInputsSchema } from './schemas.ts';
import type { DefinitionIssue, TriggerType } from './types.ts';

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
export const schedule: TriggerType = {
  type: 'io.kestra.plugin.core.trigger.Schedule',
  aliases: ['io.kestra.core.models.triggers.types.Schedule'],
  title: 'Start an execution on a cron schedule',
  properties: {
    cron: { type: 'string', minLength: 1 },
    withSeconds: { type: 'boolean' },
    timezone: { type: 'string' },
    inputs: triggerInputsSchema,
    lateMaximumDelay: durationSchema,
    recoverMissedSchedules: { enum: ['ALL', 'LAST', 'NONE'] },
    backfill: {
      type: 'object',
      properties: {
        start: { type: 'string' },
        end: { type: 'string' },
        currentDate: { type: 'string' },
        paused: { type: 'boolean' },
        inputs: { type: 'object' },
        labels: { type: ['object', 'array'] },
        previousNextExecutionDate: { type: 'string' },
      },
      additionalProperties: false,
    },
    /** Deprecated name of `conditions`. */
    scheduleConditions: conditionListSchema,
  },
  required: ['cron'],
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
};
