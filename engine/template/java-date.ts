// A slice of java.time for the date filters: ZonedDateTime as Kestra builds it from filter input,
// DateTimeFormatter patterns and the named ISO formatters, ChronoUnit arithmetic, and IANA zones
// (offsets come from Intl, so zone rules match the ICU data Node ships).
import { dateOfEpochDay, epochDayOf } from '../calendar.ts';


/** A time zone as Java's ZoneId: a fixed offset (`Z`, `+02:00`) or a region (`Europe/Paris`, `UTC`). */
export interface Zone {
  readonly id: string;
  /** Seconds east of UTC for fixed-offset zones; undefined for regions. */
  readonly fixedOffset?: number;
}

/** Java's ZonedDateTime: an instant, the zone it is seen in, and the local fields there. */
export interface ZonedDateTime {
  readonly epochSecond: number;
  readonly nano: number;
  readonly zone: Zone;
  readonly offset: number;
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nano: number;
}

export class DateTimeError extends Error {}

// ---- zones --------------------------------------------------------------------------------------

const UTC_ZONE: Zone = { id: 'Z', fixedOffset: 0 };
const zoneCache = new Map<string, Zone>();

/** Java's ZoneId.of(id). */
export function zoneOf(id: string): Zone {
  const cached = zoneCache.get(id);
  if (cached) return cached;
  const zone = resolveZone(id);
  if (zoneCache.size > 500) zoneCache.clear();
  zoneCache.set(id, zone);
  return zone;
}

function resolveZone(id: string): Zone {
  if (id === 'Z') return UTC_ZONE;
  const offset = /^(UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(id);
  if (offset) {
    const seconds = (Number(offset[3]) * 3600 + Number(offset[4] ?? 0) * 60 + Number(offset[5] ?? 0)) * (offset[2] === '-' ? -1 : 1);
    if (Math.abs(seconds) > 18 * 3600) throw new DateTimeError(`Zone offset not in valid range: ${id}`);
    return { id: offset[1] ? id : formatOffsetId(seconds), fixedOffset: seconds };
  }
  if (id === 'UT') return { id, fixedOffset: 0 };
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: id });
  } catch {
    throw new DateTimeError(`Unknown time-zone ID: ${id}`);
  }
  return { id };
}

let systemZone: Zone | undefined;
/** ZoneId.systemDefault(): the zone of this process (TZ), like the JVM's default. */
export function systemDefaultZone(): Zone {
  systemZone ??= zoneOf(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  return systemZone;
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Seconds east of UTC that `zone` observes at the given epoch second. */
function offsetAt(zone: Zone, epochSecond: number): number {
  if (zone.fixedOffset !== undefined) return zone.fixedOffset;
  let dtf = offsetFormatters.get(zone.id);
  if (!dtf) {
    dtf = new Intl.DateTimeFormat('en-US', {
      timeZone: zone.id,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormatters.set(zone.id, dtf);
  }
  const fields: Record<string, string> = {};
  for (const part of dtf.formatToParts(epochSecond * 1000)) fields[part.type] = part.value;
  let year = Number(fields.year);
  if (fields.era === 'BC' || fields.era === 'B') year = 1 - year;
  const local = epochDayOf(year, Number(fields.month), Number(fields.day)) * 86400 + Number(fields.hour) * 3600 + Number(fields.minute) * 60 + Number(fields.second);
  return local - epochSecond;
}

// ---- calendar arithmetic ------------------------------------------------------------------------


function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function lengthOfMonth(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** ISO day of week, Monday = 1 … Sunday = 7. */
function dayOfWeek(epochDay: number): number {
  return ((((epochDay + 3) % 7) + 7) % 7) + 1;
}

function dayOfYear(d: { year: number; month: number; day: number }): number {
  return epochDayOf(d.year, d.month, d.day) - epochDayOf(d.year, 1, 1) + 1;
}

/** Week-based year and week number under a week definition (first day of week, minimal days). */
function weekFields(d: { year: number; month: number; day: number }, firstDay: number, minDays: number): { weekYear: number; week: number } {
  const epochDay = epochDayOf(d.year, d.month, d.day);
  const startOfWeek1 = (year: number) => {
    const jan1 = epochDayOf(year, 1, 1);
    const shift = (dayOfWeek(jan1) - firstDay + 7) % 7;
    const weekStart = jan1 - shift;
    return 7 - shift >= minDays ? weekStart : weekStart + 7;
  };
  let weekYear = d.year;
  let start = startOfWeek1(weekYear);
  if (epochDay < start) {
    weekYear -= 1;
    start = startOfWeek1(weekYear);
  } else {
    const next = startOfWeek1(weekYear + 1);
    if (epochDay >= next) {
      weekYear += 1;
      start = next;
    }
  }
  return { weekYear, week: Math.floor((epochDay - start) / 7) + 1 };
}

// ---- building ZonedDateTimes --------------------------------------------------------------------

/** The instant seen in `zone` (Instant.atZone / ZonedDateTime.withZoneSameInstant). */
export function atZone(epochSecond: number, nano: number, zone: Zone): ZonedDateTime {
  const offset = offsetAt(zone, epochSecond);
  const local = epochSecond + offset;
  const epochDay = Math.floor(local / 86400);
  const secondOfDay = local - epochDay * 86400;
  const date = dateOfEpochDay(epochDay);
  return {
    epochSecond,
    nano,
    zone,
    offset,
    ...date,
    hour: Math.floor(secondOfDay / 3600),
    minute: Math.floor((secondOfDay % 3600) / 60),
    second: secondOfDay % 60,
  };
}

/** LocalDateTime.atZone: overlaps keep the preferred (else earlier) offset, gaps move forward. */
function fromLocal(local: LocalDateTime, zone: Zone, preferredOffset?: number): ZonedDateTime {
  const localSecond = epochDayOf(local.year, local.month, local.day) * 86400 + local.hour * 3600 + local.minute * 60 + local.second;
  const before = offsetAt(zone, localSecond - 86400);
  const after = offsetAt(zone, localSecond + 86400);
  const valid = [before, after].filter((o) => offsetAt(zone, localSecond - o) === o);
  let offset: number;
  if (preferredOffset !== undefined && valid.includes(preferredOffset)) offset = preferredOffset;
  else offset = valid.length > 0 ? Math.max(...valid) : before;
  return atZone(localSecond - offset, local.nano, zone);
}

function localOf(z: ZonedDateTime): LocalDateTime {
  return { year: z.year, month: z.month, day: z.day, hour: z.hour, minute: z.minute, second: z.second, nano: z.nano };
}

export function now(zone: Zone): ZonedDateTime {
  const ms = performance.timeOrigin + performance.now();
  const epochSecond = Math.floor(ms / 1000);
  const nano = Math.min(999_999_999, Math.round((ms - epochSecond * 1000) * 1000) * 1000);
  return atZone(epochSecond, nano, zone);
}

/** AbstractDate.convert: what Kestra's date filters accept as input. */
export function toZonedDateTime(value: unknown, zone: Zone, existingFormat?: string): ZonedDateTime {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new DateTimeError('Invalid Date');
    const epochSecond = Math.floor(ms / 1000);
    return atZone(epochSecond, (ms - epochSecond * 1000) * 1_000_000, zone);
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new DateTimeError(`Unable to convert the number ${value} to a date, epoch seconds must be an integer`);
    return atZone(value, 0, zone);
  }
  if (typeof value !== 'string') {
    throw new DateTimeError(`Unable to convert a value of type ${value === null ? 'null' : typeof value} to a date`);
  }
  const parsed = existingFormat === undefined ? parseIso(value) : parseWithFormat(value, existingFormat);
  if (parsed.hour === undefined) {
    // LocalDate.parse(...).atStartOfDay().atZone(zone)
    return fromLocal({ year: parsed.year, month: parsed.month, day: parsed.day, hour: 0, minute: 0, second: 0, nano: 0 }, zone);
  }
  const local: LocalDateTime = {
    year: parsed.year,
    month: parsed.month,
    day: parsed.day,
    hour: parsed.hour,
    minute: parsed.minute ?? 0,
    second: parsed.second ?? 0,
    nano: parsed.nano ?? 0,
  };
  if (parsed.zone !== undefined) return fromLocal(local, zoneOf(parsed.zone), parsed.offset);
  if (parsed.offset !== undefined) return fromLocal(local, zoneOf(formatOffsetId(parsed.offset)));
  return fromLocal(local, zone);
}

// ---- parsing ------------------------------------------------------------------------------------

interface ParsedFields {
  year: number;
  month: number;
  day: number;
  hour?: number;
  minute?: number;
  second?: number;
  nano?: number;
  offset?: number;
  zone?: string;
}

const ISO_PATTERN =
  /^([+-]?\d{4,9})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2})(?::?(\d{2}))?)?)?(?:\[([^\]]+)\])?)?$/;

function unparseable(text: string): DateTimeError {
  return new DateTimeError(`Text '${text}' could not be parsed at index 0`);
}

/** ZonedDateTime.parse, then LocalDateTime.parse, then LocalDate.parse (ISO forms). */
function parseIso(text: string): ParsedFields {
  const m = ISO_PATTERN.exec(text);
  if (!m) throw unparseable(text);
  const fields: ParsedFields = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  if (m[4] !== undefined) {
    fields.hour = Number(m[4]);
    fields.minute = Number(m[5]);
    fields.second = Number(m[6] ?? 0);
    fields.nano = m[7] ? Number(m[7].padEnd(9, '0')) : 0;
    if (m[8]) fields.offset = 0;
    else if (m[9]) fields.offset = (Number(m[10]) * 3600 + Number(m[11] ?? 0) * 60 + Number(m[12] ?? 0)) * (m[9] === '-' ? -1 : 1);
    if (m[13]) fields.zone = m[13];
  } else if (m[13]) {
    throw unparseable(text);
  }
  validateFields(fields, text);
  return fields;
}

function validateFields(f: ParsedFields, text: string): void {
  const bad = (what: string, value: number, range: string) => new DateTimeError(`Text '${text}' could not be parsed: Invalid value for ${what} (valid values ${range}): ${value}`);
  if (f.month < 1 || f.month > 12) throw bad('MonthOfYear', f.month, '1 - 12');
  if (f.day < 1 || f.day > 31) throw bad('DayOfMonth', f.day, '1 - 28/31');
  if (f.day > lengthOfMonth(f.year, f.month)) throw new DateTimeError(`Text '${text}' could not be parsed: Invalid date`);
  if (f.hour !== undefined && (f.hour < 0 || f.hour > 23)) throw bad('HourOfDay', f.hour, '0 - 23');
  if (f.minute !== undefined && (f.minute < 0 || f.minute > 59)) throw bad('MinuteOfHour', f.minute, '0 - 59');
  if (f.second !== undefined && (f.second < 0 || f.second > 59)) throw bad('SecondOfMinute', f.second, '0 - 59');
}

const ISO_NAMED_PARSERS = new Set([
  'iso_date_time',
  'iso_zoned_date_time',
  'iso_offset_date_time',
  'iso_local_date_time',
  'iso_local_date',
  'iso_date',
  'iso_instant',
]);

/** Parses `text` with a Java pattern (or a named formatter) given as `existingFormat`. */
function parseWithFormat(text: string, format: string): ParsedFields {
  if (ISO_NAMED_PARSERS.has(format)) return parseIso(text);
  const pattern = NAMED_PATTERNS[format] ?? format;
  const parts = tokenizePattern(pattern);
  const f: Partial<ParsedFields> & { pm?: boolean; hour12?: number } = {};
  let pos = 0;
  const fail = (): never => {
    throw new DateTimeError(`Text '${text}' could not be parsed at index ${pos}`);
  };
  const readNumber = (min: number, max: number): number => {
    const m = new RegExp(`^\\d{${min},${max}}`).exec(text.slice(pos));
    if (!m) fail();
    pos += m![0].length;
    return Number(m![0]);
  };
  const readText = (options: readonly string[]): number => {
    const rest = text.slice(pos).toLowerCase();
    let best = -1;
    options.forEach((option, i) => {
      if (option && rest.startsWith(option.toLowerCase()) && (best < 0 || option.length > options[best].length)) best = i;
    });
    if (best < 0) fail();
    pos += options[best].length;
    return best;
  };
  const names = localeNames('en-US');
  parts.forEach((part, index) => {
    if (part.kind === 'literal') {
      if (!text.startsWith(part.text, pos)) fail();
      pos += part.text.length;
      return;
    }
    const { letter, count } = part;
    // Adjacent numeric fields (yyyyMMdd) take exactly their width; otherwise up to two digits.
    const nextIsNumber = parts[index + 1]?.kind === 'field' && 'yuMdHhKkmsSD'.includes((parts[index + 1] as { letter: string }).letter);
    const twoDigitMax = nextIsNumber ? count : 2;
    switch (letter) {
      case 'y':
      case 'u':
        if (count === 2) f.year = 2000 + readNumber(2, 2);
        else f.year = readNumber(count === 1 ? 1 : count, nextIsNumber ? count : 9);
        break;
      case 'M':
      case 'L':
        if (count >= 4) f.month = readText(names.monthsLong) + 1;
        else if (count === 3) f.month = readText(names.monthsShort) + 1;
        else f.month = readNumber(count, twoDigitMax);
        break;
      case 'd':
        f.day = readNumber(count, twoDigitMax);
        break;
      case 'D': {
        const doy = readNumber(count, 3);
        f.month = 1;
        f.day = doy;
        break;
      }
      case 'H':
      case 'k':
        f.hour = readNumber(count, twoDigitMax) % 24;
        break;
      case 'h':
      case 'K':
        f.hour12 = readNumber(count, twoDigitMax) % 12;
        break;
      case 'a':
        f.pm = readText(['AM', 'PM']) === 1;
        break;
      case 'm':
        f.minute = readNumber(count, twoDigitMax);
        break;
      case 's':
        f.second = readNumber(count, twoDigitMax);
        break;
      case 'S': {
        const digits = text.slice(pos, pos + count);
        if (!/^\d+$/.test(digits) || digits.length !== count) fail();
        pos += count;
        f.nano = Number(digits.padEnd(9, '0').slice(0, 9));
        break;
      }
      case 'E':
        readText(count >= 4 ? names.weekdaysLong : names.weekdaysShort);
        break;
      case 'X':
      case 'x':
      case 'Z': {
        if (letter !== 'x' && (text[pos] === 'Z' || text[pos] === 'z')) {
          pos += 1;
          f.offset = 0;
          break;
        }
        if (text.startsWith('GMT', pos)) pos += 3;
        const m = /^([+-])(\d{2}):?(\d{2})?(?::?(\d{2}))?/.exec(text.slice(pos));
        if (!m) fail();
        pos += m![0].length;
        f.offset = (Number(m![2]) * 3600 + Number(m![3] ?? 0) * 60 + Number(m![4] ?? 0)) * (m![1] === '-' ? -1 : 1);
        break;
      }
      case 'V':
      case 'z': {
        const m = /^[A-Za-z_]+(?:\/[A-Za-z_+-]+)*|^[+-]\d{2}:?\d{2}/.exec(text.slice(pos));
        if (!m) fail();
        pos += m![0].length;
        f.zone = m![0];
        break;
      }
      default:
        throw new DateTimeError(`Unsupported pattern letter for parsing: ${letter}`);
    }
  });
  if (pos !== text.length) throw new DateTimeError(`Text '${text}' could not be parsed, unparsed text found at index ${pos}`);
  if (f.hour12 !== undefined) f.hour = f.hour12 + (f.pm ? 12 : 0);
  if (f.year === undefined || f.month === undefined || f.day === undefined) {
    throw new DateTimeError(`Text '${text}' could not be parsed: Unable to obtain a date from the pattern '${pattern}'`);
  }
  if (f.month === 1 && f.day > 31) {
    const date = dateOfEpochDay(epochDayOf(f.year, 1, 1) + f.day - 1);
    f.month = date.month;
    f.day = date.day;
  }
  const fields: ParsedFields = { year: f.year, month: f.month, day: f.day, hour: f.hour, minute: f.minute, second: f.second, nano: f.nano, offset: f.offset, zone: f.zone };
  validateFields(fields, text);
  return fields;
}

// ---- formatting ---------------------------------------------------------------------------------

type PatternPart = { kind: 'literal'; text: string } | { kind: 'field'; letter: string; count: number };

const patternCache = new Map<string, PatternPart[]>();
const KNOWN_LETTERS = 'GuyDMLdQqYwWEecFaBhKkHmsSAnNVvzOXxZ';

/** Splits a DateTimeFormatter pattern into fields and literals ('quoted', '' and [optional]). */
function tokenizePattern(pattern: string): PatternPart[] {
  const cached = patternCache.get(pattern);
  if (cached) return cached;
  const parts: PatternPart[] = [];
  const literal = (text: string) => {
    const last = parts[parts.length - 1];
    if (last?.kind === 'literal') last.text += text;
    else parts.push({ kind: 'literal', text });
  };
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i];
    if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      if (!KNOWN_LETTERS.includes(c)) throw new DateTimeError(`Unknown pattern letter: ${c}`);
      parts.push({ kind: 'field', letter: c, count: j - i });
      i = j;
    } else if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end === i + 1) {
        literal("'");
        i += 2;
        continue;
      }
      if (end < 0) throw new DateTimeError(`Pattern ends with an incomplete string literal: ${pattern}`);
      // '' inside a quoted section is an escaped quote.
      let text = '';
      let k = i + 1;
      for (;;) {
        const close = pattern.indexOf("'", k);
        if (close < 0) throw new DateTimeError(`Pattern ends with an incomplete string literal: ${pattern}`);
        text += pattern.slice(k, close);
        if (pattern[close + 1] === "'") {
          text += "'";
          k = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      literal(text);
    } else if (c === '[' || c === ']') {
      i++;
    } else if (c === '{' || c === '}' || c === '#') {
      throw new DateTimeError(`Pattern includes reserved character: '${c}'`);
    } else {
      literal(c);
      i++;
    }
  }
  if (patternCache.size > 1000) patternCache.clear();
  patternCache.set(pattern, parts);
  return parts;
}

interface LocaleNames {
  monthsLong: string[];
  monthsShort: string[];
  monthsNarrow: string[];
  weekdaysLong: string[];
  weekdaysShort: string[];
  weekdaysNarrow: string[];
  ampm: [string, string];
  /** Week definition: first day (ISO number) and minimal days in the first week. */
  firstDay: number;
  minDays: number;
}

const localeCache = new Map<string, LocaleNames>();

/** Month/day names from Intl; `en_US`-style Java locale tags are accepted. */
function localeNames(locale: string): LocaleNames {
  const tag = locale.replace(/_/g, '-');
  const cached = localeCache.get(tag);
  if (cached) return cached;
  const fmt = (options: Intl.DateTimeFormatOptions, ms: number) => new Intl.DateTimeFormat(tag, { timeZone: 'UTC', ...options }).format(ms);
  const months = (style: 'long' | 'short' | 'narrow') => Array.from({ length: 12 }, (_, m) => fmt({ month: style }, Date.UTC(2001, m, 15)));
  // 2001-01-01 was a Monday.
  const weekdays = (style: 'long' | 'short' | 'narrow') => Array.from({ length: 7 }, (_, d) => fmt({ weekday: style }, Date.UTC(2001, 0, 1 + d)));
  const period = (hour: number) =>
    new Intl.DateTimeFormat(tag, { timeZone: 'UTC', hour: 'numeric', hour12: true }).formatToParts(Date.UTC(2001, 0, 1, hour)).find((p) => p.type === 'dayPeriod')?.value ??
    (hour < 12 ? 'AM' : 'PM');
  const usWeeks = /^(en-US|en|und)$/i.test(tag) || /-(US|CA|JP|BR|MX)$/i.test(tag);
  const names: LocaleNames = {
    monthsLong: months('long'),
    monthsShort: months('short'),
    monthsNarrow: months('narrow'),
    weekdaysLong: weekdays('long'),
    weekdaysShort: weekdays('short'),
    weekdaysNarrow: weekdays('narrow'),
    ampm: [period(9), period(21)],
    firstDay: usWeeks ? 7 : 1,
    minDays: usWeeks ? 1 : 4,
  };
  localeCache.set(tag, names);
  return names;
}

const pad = (n: number, width: number) => (n < 0 ? '-' + String(-n).padStart(width, '0') : String(n).padStart(width, '0'));

/** `+01:00`, `+05:30:15` or `Z` (ZoneOffset.getId). */
export function formatOffsetId(offset: number): string {
  if (offset === 0) return 'Z';
  return formatOffset(offset, true, true);
}

function formatOffset(offset: number, colons: boolean, withSeconds: boolean, optionalMinutes = false): string {
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  const sep = colons ? ':' : '';
  let out = sign + pad(h, 2);
  if (!(optionalMinutes && m === 0 && s === 0)) out += sep + pad(m, 2);
  if (withSeconds && s !== 0) out += sep + pad(s, 2);
  return out;
}

function zoneName(z: ZonedDateTime, style: 'short' | 'long', locale: string): string {
  if (z.zone.fixedOffset !== undefined && z.zone.id !== 'UTC' && z.zone.id !== 'GMT') return z.zone.id;
  const part = new Intl.DateTimeFormat(locale.replace(/_/g, '-'), { timeZone: z.zone.id, timeZoneName: style })
    .formatToParts(z.epochSecond * 1000)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? z.zone.id;
}

function formatField(z: ZonedDateTime, letter: string, count: number, locale: string): string {
  const names = localeNames(locale);
  const epochDay = epochDayOf(z.year, z.month, z.day);
  const isoDow = dayOfWeek(epochDay);
  const text = (long: string[], short: string[], narrow: string[], index: number) => (count === 4 ? long : count === 5 ? narrow : short)[index];
  const number = (value: number) => (count === 1 ? String(value) : pad(value, count));
  switch (letter) {
    case 'G':
      return count === 4 ? (z.year > 0 ? 'Anno Domini' : 'Before Christ') : count === 5 ? (z.year > 0 ? 'A' : 'B') : z.year > 0 ? 'AD' : 'BC';
    case 'u':
    case 'y': {
      const year = letter === 'y' && z.year <= 0 ? 1 - z.year : z.year;
      if (count === 2) return pad(((year % 100) + 100) % 100, 2);
      const out = pad(year, count);
      return count >= 4 && year > 9999 ? `+${out}` : out;
    }
    case 'Y': {
      const { weekYear } = weekFields(z, names.firstDay, names.minDays);
      return count === 2 ? pad(weekYear % 100, 2) : pad(weekYear, count);
    }
    case 'Q':
    case 'q': {
      const quarter = Math.floor((z.month - 1) / 3) + 1;
      if (count <= 2) return pad(quarter, count);
      return count === 3 ? `Q${quarter}` : count === 4 ? `${['1st', '2nd', '3rd', '4th'][quarter - 1]} quarter` : String(quarter);
    }
    case 'M':
    case 'L':
      return count >= 3 ? text(names.monthsLong, names.monthsShort, names.monthsNarrow, z.month - 1) : number(z.month);
    case 'w':
      return number(weekFields(z, names.firstDay, names.minDays).week);
    case 'W': {
      const firstOfMonth = epochDayOf(z.year, z.month, 1);
      const shift = (dayOfWeek(firstOfMonth) - names.firstDay + 7) % 7;
      return String(Math.floor((z.day - 1 + shift) / 7) + (7 - shift >= names.minDays ? 1 : 0));
    }
    case 'd':
      return number(z.day);
    case 'D':
      return pad(dayOfYear(z), count);
    case 'F':
      return String(Math.floor((z.day - 1) / 7) + 1);
    case 'E':
      return text(names.weekdaysLong, names.weekdaysShort, names.weekdaysNarrow, isoDow - 1);
    case 'e':
    case 'c': {
      if (count >= 3) return text(names.weekdaysLong, names.weekdaysShort, names.weekdaysNarrow, isoDow - 1);
      const localized = ((isoDow - names.firstDay + 7) % 7) + 1;
      return pad(localized, count);
    }
    case 'a':
    case 'B':
      return names.ampm[z.hour < 12 ? 0 : 1];
    case 'h':
      return number(z.hour % 12 === 0 ? 12 : z.hour % 12);
    case 'K':
      return number(z.hour % 12);
    case 'k':
      return number(z.hour === 0 ? 24 : z.hour);
    case 'H':
      return number(z.hour);
    case 'm':
      return number(z.minute);
    case 's':
      return number(z.second);
    case 'S':
      return pad(z.nano, 9).slice(0, count).padEnd(count, '0');
    case 'A':
      return pad((z.hour * 3600 + z.minute * 60 + z.second) * 1000 + Math.floor(z.nano / 1e6), count);
    case 'n':
      return pad(z.nano, count);
    case 'N':
      return pad((z.hour * 3600 + z.minute * 60 + z.second) * 1e9 + z.nano, count);
    case 'V':
      if (count !== 2) throw new DateTimeError('Pattern letter count must be 2: V');
      return z.zone.id;
    case 'v':
    case 'z':
      return zoneName(z, count === 4 ? 'long' : 'short', locale);
    case 'O': {
      if (z.offset === 0) return 'GMT';
      if (count === 4) return `GMT${formatOffset(z.offset, true, true)}`;
      const sign = z.offset < 0 ? '-' : '+';
      const abs = Math.abs(z.offset);
      const minutes = Math.floor((abs % 3600) / 60);
      return `GMT${sign}${Math.floor(abs / 3600)}${minutes ? `:${pad(minutes, 2)}` : ''}`;
    }
    case 'X':
    case 'x': {
      if (letter === 'X' && z.offset === 0) return 'Z';
      switch (count) {
        case 1:
          return formatOffset(z.offset, false, false, true);
        case 2:
          return formatOffset(z.offset, false, false);
        case 3:
          return formatOffset(z.offset, true, false);
        case 4:
          return formatOffset(z.offset, false, true);
        default:
          return formatOffset(z.offset, true, true);
      }
    }
    case 'Z':
      if (count <= 3) return formatOffset(z.offset, false, false);
      if (count === 4) return z.offset === 0 ? 'GMT' : `GMT${formatOffset(z.offset, true, true)}`;
      return z.offset === 0 ? 'Z' : formatOffset(z.offset, true, true);
  }
  throw new DateTimeError(`Unknown pattern letter: ${letter}`);
}

function formatPattern(z: ZonedDateTime, pattern: string, locale: string): string {
  let out = '';
  for (const part of tokenizePattern(pattern)) {
    out += part.kind === 'literal' ? part.text : formatField(z, part.letter, part.count, locale);
  }
  return out;
}

/** Fraction of ISO_LOCAL_TIME: as many digits as needed, none when zero. */
function isoFraction(nano: number): string {
  return nano === 0 ? '' : '.' + pad(nano, 9).replace(/0+$/, '');
}

/** Fraction of ISO_INSTANT: groups of three digits. */
function instantFraction(nano: number): string {
  if (nano === 0) return '';
  if (nano % 1_000_000 === 0) return '.' + pad(nano / 1_000_000, 3);
  if (nano % 1000 === 0) return '.' + pad(nano / 1000, 6);
  return '.' + pad(nano, 9);
}

const NAMED_PATTERNS: Record<string, string> = {
  iso: "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
  iso_sec: "yyyy-MM-dd'T'HH:mm:ssXXX",
  sql: 'yyyy-MM-dd HH:mm:ss.SSSSSS',
  sql_seq: 'yyyy-MM-dd HH:mm:ss',
};

const STYLES = new Set(['full', 'long', 'medium', 'short']);

function isoDate(z: ZonedDateTime): string {
  const year = z.year > 9999 ? `+${z.year}` : pad(z.year, 4);
  return `${year}-${pad(z.month, 2)}-${pad(z.day, 2)}`;
}

function isoTime(z: ZonedDateTime): string {
  return `${pad(z.hour, 2)}:${pad(z.minute, 2)}:${pad(z.second, 2)}${isoFraction(z.nano)}`;
}

const ISO_FORMATTERS: Record<string, (z: ZonedDateTime) => string> = {
  iso_local_date: (z) => isoDate(z),
  iso_date: (z) => isoDate(z) + formatOffsetId(z.offset),
  iso_local_time: (z) => isoTime(z),
  iso_time: (z) => isoTime(z) + formatOffsetId(z.offset),
  iso_offset_time: (z) => isoTime(z) + formatOffsetId(z.offset),
  iso_local_date_time: (z) => `${isoDate(z)}T${isoTime(z)}`,
  iso_offset_date_time: (z) => `${isoDate(z)}T${isoTime(z)}${formatOffsetId(z.offset)}`,
  iso_date_time: (z) => `${isoDate(z)}T${isoTime(z)}${formatOffsetId(z.offset)}${z.zone.fixedOffset === undefined ? `[${z.zone.id}]` : ''}`,
  iso_zoned_date_time: (z) => `${isoDate(z)}T${isoTime(z)}${formatOffsetId(z.offset)}${z.zone.fixedOffset === undefined ? `[${z.zone.id}]` : ''}`,
  iso_instant: (z) => {
    const utc = atZone(z.epochSecond, z.nano, UTC_ZONE);
    return `${isoDate(utc)}T${pad(utc.hour, 2)}:${pad(utc.minute, 2)}:${pad(utc.second, 2)}${instantFraction(utc.nano)}Z`;
  },
  iso_ordinal_date: (z) => `${pad(z.year, 4)}-${pad(dayOfYear(z), 3)}${formatOffsetId(z.offset)}`,
  iso_week_date: (z) => {
    const { weekYear, week } = weekFields(z, 1, 4);
    return `${pad(weekYear, 4)}-W${pad(week, 2)}-${dayOfWeek(epochDayOf(z.year, z.month, z.day))}${formatOffsetId(z.offset)}`;
  },
  rfc_1123_date_time: (z) => {
    const names = localeNames('en-US');
    const dow = names.weekdaysShort[dayOfWeek(epochDayOf(z.year, z.month, z.day)) - 1];
    const offset = z.offset === 0 ? 'GMT' : formatOffset(z.offset, false, false);
    return `${dow}, ${z.day} ${names.monthsShort[z.month - 1]} ${z.year} ${pad(z.hour, 2)}:${pad(z.minute, 2)}:${pad(z.second, 2)} ${offset}`;
  },
};

/**
 * DateTimeFormatter.format with Kestra's named formats (`iso`, `sql`, `iso_date_time`, styles
 * `full`…`short`) or a pattern; the date is first moved to `zone`, as `withZone` does.
 */
export function formatDate(date: ZonedDateTime, format: string, zone: Zone, locale = 'en-US'): string {
  const z = atZone(date.epochSecond, date.nano, zone);
  const iso = ISO_FORMATTERS[format];
  if (iso) return iso(z);
  if (STYLES.has(format)) {
    const style = format as 'full' | 'long' | 'medium' | 'short';
    const timeZone = zone.fixedOffset === undefined ? zone.id : zone.fixedOffset === 0 ? 'UTC' : formatOffset(zone.fixedOffset, true, false);
    return new Intl.DateTimeFormat(locale.replace(/_/g, '-'), { dateStyle: style, timeStyle: style, timeZone }).format(z.epochSecond * 1000);
  }
  return formatPattern(z, NAMED_PATTERNS[format] ?? format, locale);
}

// ---- arithmetic ---------------------------------------------------------------------------------

const TIME_UNITS: Record<string, number> = {
  NANOS: 1e-9,
  MICROS: 1e-6,
  MILLIS: 1e-3,
  SECONDS: 1,
  MINUTES: 60,
  HOURS: 3600,
  HALF_DAYS: 43200,
};
const DATE_UNITS: Record<string, { days?: number; months?: number }> = {
  DAYS: { days: 1 },
  WEEKS: { days: 7 },
  MONTHS: { months: 1 },
  YEARS: { months: 12 },
  DECADES: { months: 120 },
  CENTURIES: { months: 1200 },
  MILLENNIA: { months: 12000 },
};

/** ZonedDateTime.plus(amount, ChronoUnit.valueOf(unit)). */
export function plus(z: ZonedDateTime, amount: number, unit: string): ZonedDateTime {
  const seconds = TIME_UNITS[unit];
  if (seconds !== undefined) {
    // Time units move the instant, in whole nanoseconds.
    const totalNanos = BigInt(z.epochSecond) * 1_000_000_000n + BigInt(z.nano) + BigInt(amount) * BigInt(Math.round(seconds * 1e9));
    const epochSecond = totalNanos / 1_000_000_000n - (totalNanos % 1_000_000_000n < 0n ? 1n : 0n);
    const nano = Number(totalNanos - epochSecond * 1_000_000_000n);
    return atZone(Number(epochSecond), nano, z.zone);
  }
  const dateUnit = DATE_UNITS[unit];
  if (!dateUnit) throw new DateTimeError(`No enum constant java.time.temporal.ChronoUnit.${unit}`);
  const local = localOf(z);
  if (dateUnit.days) {
    const d = dateOfEpochDay(epochDayOf(local.year, local.month, local.day) + amount * dateUnit.days);
    Object.assign(local, d);
  } else {
    const months = local.year * 12 + (local.month - 1) + amount * dateUnit.months!;
    local.year = Math.floor(months / 12);
    local.month = months - local.year * 12 + 1;
    local.day = Math.min(local.day, lengthOfMonth(local.year, local.month));
  }
  return fromLocal(local, z.zone, z.offset);
}
