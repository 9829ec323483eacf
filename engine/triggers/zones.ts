/**
 * Time zones of Schedule triggers: Kestra's `timezone` is an IANA id (`Europe/Paris`), `UTC`, or a fixed
 * offset (`+02:00`, `UTC+2`). Schedule dates are handed to flows as ISO-8601 strings in that zone, so
 * `{{ trigger.date | date('yyyy') }}` reads the local year.
 *
 * Offsets come from Intl, not @js-joda (which the date filters use): croner computes the schedule's
 * dates with Intl's zone rules (Node's ICU, tzdata 2025c here), and @js-joda carries its own database
 * (2026a), so a date printed or read here with @js-joda could disagree with the one croner fired on.
 * This module is also loaded by every process that reads flows (baton validate included), where
 * @js-joda/timezone would add ~0.3 s of CPU at start.
 */
import { isValidTimeZone } from './schedule.ts';

export interface ScheduleZone {
  /** As written in the flow (or the server's zone). */
  id: string;
  /** Minutes east of UTC for fixed-offset zones; undefined for regions, whose offset depends on the date. */
  fixedOffsetMinutes?: number;
}

const UTC_IDS = new Set(['Z', 'UTC', 'UCT', 'GMT', 'GMT0', 'Greenwich', 'Universal', 'Zulu', 'Etc/UTC', 'Etc/UCT', 'Etc/GMT', 'Etc/GMT0', 'Etc/Greenwich', 'Etc/Universal', 'Etc/Zulu']);
const FIXED_OFFSET = /^(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/;

/** Thrown for a `timezone` that is not a zone. */
export class ScheduleZoneError extends Error {
  constructor(zone: string) {
    super(`timezone '${zone}' is not a valid time-zone ID`);
    this.name = 'ScheduleZoneError';
  }
}

/** The zone of this process, Kestra's default (`ZoneId.systemDefault()`). */
export function systemZoneId(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Resolves a `timezone` property (undefined: the server's zone). Throws ScheduleZoneError. */
export function scheduleZone(id: string | undefined): ScheduleZone {
  const zone = id ?? systemZoneId();
  if (!isValidTimeZone(zone)) throw new ScheduleZoneError(zone);
  // UTC itself is a fixed offset: croner computes fixed-offset dates about twenty times faster.
  if (UTC_IDS.has(zone)) return { id: zone, fixedOffsetMinutes: 0 };
  const fixed = FIXED_OFFSET.exec(zone);
  if (fixed) {
    const minutes = Number(fixed[2]) * 60 + Number(fixed[3] ?? 0) + Number(fixed[4] ?? 0) / 60;
    return { id: zone, fixedOffsetMinutes: fixed[1] === '-' ? -minutes : minutes };
  }
  return { id: zone };
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes east of UTC that `zone` observes at `date`. */
export function offsetMinutesAt(zone: ScheduleZone, date: Date): number {
  if (zone.fixedOffsetMinutes !== undefined) return zone.fixedOffsetMinutes;
  let formatter = offsetFormatters.get(zone.id);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone.id, timeZoneName: 'longOffset' });
    offsetFormatters.set(zone.id, formatter);
  }
  const name = formatter.formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  return match[1] === '-' ? -minutes : minutes;
}

const pad = (n: number, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, '0');

/**
 * `date` as Java prints a ZonedDateTime's ISO offset form in `zone`: `2019-01-01T09:00:00Z`,
 * `2024-03-01T00:30:00+01:00`; milliseconds only when there are some.
 */
export function formatZoned(date: Date, zone: ScheduleZone): string {
  const offset = offsetMinutesAt(zone, date);
  const local = new Date(date.getTime() + offset * 60_000);
  const ms = local.getUTCMilliseconds();
  const text =
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    (ms ? `.${pad(ms, 3)}` : '');
  if (offset === 0) return `${text}Z`;
  return `${text}${offset < 0 ? '-' : '+'}${pad(Math.abs(offset) / 60)}:${pad(Math.abs(offset) % 60)}`;
}

const WITH_OFFSET = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})(?:\[[^\]]+\])?$/i;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;

/**
 * Reads a date-time the way Kestra's API takes one: ISO-8601 with an offset (`2019-01-01T00:00:00Z`,
 * `…+01:00`, optionally followed by `[Europe/Paris]`), or a local date or date-time read in `zone`
 * (`2019-01-01`, `2019-12-31T23:59:59`). Undefined when it is neither.
 */
export function parseZoned(text: string, zone: ScheduleZone): Date | undefined {
  const trimmed = text.trim();
  const withOffset = WITH_OFFSET.exec(trimmed);
  if (withOffset) {
    const offset = withOffset[2].toUpperCase() === 'Z' ? 'Z' : withOffset[2].replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
    const time = Date.parse(`${withOffset[1]}${offset}`);
    return Number.isNaN(time) ? undefined : new Date(time);
  }
  const local = LOCAL.exec(trimmed);
  if (!local) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '0'] = local;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(fraction.padEnd(3, '0').slice(0, 3)));
  if (Number.isNaN(wall)) return undefined;
  // The offset at the wall time read as UTC is a guess; the offset at the guessed instant settles it.
  const guess = wall - offsetMinutesAt(zone, new Date(wall)) * 60_000;
  return new Date(wall - offsetMinutesAt(zone, new Date(guess)) * 60_000);
}

const DAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;

/** The day of the week of the calendar date an ISO-8601 string starts with (its local date, whatever its offset). */
export function dayOfWeekOf(text: string): (typeof DAYS)[number] | undefined {
  const match = /^\s*(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!match) return undefined;
  const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return Number.isNaN(day.getTime()) ? undefined : DAYS[day.getUTCDay()];
}
