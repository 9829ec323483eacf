/**
 * DATETIME, DATE and TIME values as Java's `Instant`, `LocalDate` and `LocalTime` parse and print
 * them, so `{{ inputs.when }}` reads the same in Baton as in Kestra (`2024-01-15T09:30:00Z`,
 * `10:15`, nanosecond fractions kept). Durations are printed as Java's `Duration.toString()`.
 */
import { dateOfEpochDay, epochDayOf } from '../calendar.ts';

/** A point in time: whole seconds since the epoch plus nanoseconds (0–999 999 999). */
export interface InstantValue {
  seconds: number;
  nanos: number;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)$/i;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;

/** Parses an ISO-8601 instant with a zone (`Z`, `+02:00`); undefined when it is not one. */
export function parseInstant(text: string): InstantValue | undefined {
  const m = INSTANT.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const offset = parseOffset(m[8]);
  if (offset === undefined) return undefined;
  const seconds = epochDayOf(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second - offset;
  return { seconds, nanos: fractionToNanos(m[7]) };
}

/** The instant of a JS Date (millisecond precision); undefined for an invalid Date. */
export function instantFromDate(date: Date): InstantValue | undefined {
  const ms = date.getTime();
  if (Number.isNaN(ms)) return undefined;
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** Java's `Instant.toString()`: UTC, seconds always shown, the fraction in groups of three digits. */
export function formatInstant(instant: InstantValue): string {
  const days = Math.floor(instant.seconds / 86_400);
  const secondOfDay = instant.seconds - days * 86_400;
  const { year, month, day } = dateOfEpochDay(days);
  const yearText = year < 0 ? `-${pad(-year, 4)}` : year > 9999 ? `+${year}` : pad(year, 4);
  const time = `${pad(Math.floor(secondOfDay / 3600), 2)}:${pad(Math.floor(secondOfDay / 60) % 60, 2)}:${pad(secondOfDay % 60, 2)}`;
  return `${yearText}-${pad(month, 2)}-${pad(day, 2)}T${time}${fraction(instant.nanos)}Z`;
}

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareInstants(a: InstantValue, b: InstantValue): number {
  return a.seconds - b.seconds || a.nanos - b.nanos;
}

/** `yyyy-MM-dd` with a real calendar day; the text is returned unchanged (it is already canonical). */
export function parseLocalDate(text: string): string | undefined {
  const m = LOCAL_DATE.exec(text);
  if (!m || !validDate(Number(m[1]), Number(m[2]), Number(m[3]))) return undefined;
  return text;
}

/** `HH:mm[:ss[.fraction]]` as nanoseconds of the day. */
export function parseLocalTime(text: string): number | undefined {
  const m = LOCAL_TIME.exec(text);
  if (!m) return undefined;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  const second = m[3] === undefined ? 0 : Number(m[3]);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return ((hour * 60 + minute) * 60 + second) * 1e9 + fractionToNanos(m[4]);
}

/** Java's `LocalTime.toString()`: `HH:mm`, then `:ss` and a fraction only when they are not zero. */
export function formatLocalTime(nanoOfDay: number): string {
  const nanos = nanoOfDay % 1e9;
  const secondOfDay = Math.round((nanoOfDay - nanos) / 1e9);
  const second = secondOfDay % 60;
  let text = `${pad(Math.floor(secondOfDay / 3600), 2)}:${pad(Math.floor(secondOfDay / 60) % 60, 2)}`;
  if (second > 0 || nanos > 0) text += `:${pad(second, 2)}${fraction(nanos)}`;
  return text;
}

/** Java's `Duration.toString()` for a non-negative length in milliseconds: `PT0S`, `PT1M30S`, `PT24H`, `PT0.5S`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return 'PT0S';
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor(ms / 60_000) % 60;
  const secondMs = ms % 60_000;
  let text = 'PT';
  if (hours) text += `${hours}H`;
  if (minutes) text += `${minutes}M`;
  if (secondMs) {
    const whole = Math.floor(secondMs / 1000);
    const millis = secondMs % 1000;
    text += millis ? `${whole}.${pad(millis, 3).replace(/0+$/, '')}S` : `${whole}S`;
  }
  return text;
}

function parseOffset(text: string): number | undefined {
  if (text.toUpperCase() === 'Z') return 0;
  const digits = text.slice(1).replace(/:/g, '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4) || '0');
  const seconds = Number(digits.slice(4, 6) || '0');
  if (hours > 18 || minutes > 59 || seconds > 59) return undefined;
  const total = hours * 3600 + minutes * 60 + seconds;
  if (total > 18 * 3600) return undefined;
  return text.startsWith('-') ? -total : total;
}

function fractionToNanos(digits: string | undefined): number {
  return digits === undefined ? 0 : Number(digits.padEnd(9, '0'));
}

/** `.SSS`, `.SSSSSS` or `.SSSSSSSSS`, whichever is the shortest exact one; nothing for zero. */
function fraction(nanos: number): string {
  if (nanos === 0) return '';
  if (nanos % 1_000_000 === 0) return `.${pad(nanos / 1_000_000, 3)}`;
  if (nanos % 1_000 === 0) return `.${pad(nanos / 1_000, 6)}`;
  return `.${pad(nanos, 9)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const lengths = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return day <= lengths[month - 1];
}

