// java.time for Kestra's date filters (io.kestra.core.runners.pebble.AbstractDate), through @js-joda,
// a port of java.time: ZoneId, ZonedDateTime parsing, DateTimeFormatter patterns and ChronoUnit
// arithmetic follow Java's own rules. What is written here is what Kestra adds (its named formats and
// input forms) and the few places where @js-joda differs from the JDK Kestra runs on.
//
// Loading this module costs ~0.3 s of CPU as measured here (@js-joda/timezone unpacks the history of
// every zone at load): filters.ts and functions.ts import it on first use, so a process that renders
// no date (baton validate, for one) never pays for it.
import {
  ChronoField, ChronoUnit, DateTimeFormatter, DateTimeFormatterBuilder, DateTimeParseException, Instant, IsoFields, LocalDate,
  LocalDateTime, ResolverStyle, SignStyle, ZonedDateTime, ZoneId, ZoneOffset,
} from '@js-joda/core';
import '@js-joda/timezone';
import { Locale, registerLocaleData } from '@js-joda/locale';
import '@js-joda/locale_en-us';
import { LRUCache } from 'lru-cache';

export type { ZonedDateTime, ZoneId };

/** A java.time exception, with Java's message (the @js-joda exception is its cause). */
export class DateTimeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DateTimeError';
  }
}

/** Runs java.time code; @js-joda appends the input and the cause's stack to its messages, Java does not. */
function javaTime<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (!(error instanceof Error) || error instanceof DateTimeError) throw error;
    let message = error.message.split('\n-------\n')[0];
    if (error instanceof DateTimeParseException) {
      const detail = `: ${error.parsedString()}, at index: ${error.errorIndex()}`;
      if (message.endsWith(detail)) message = message.slice(0, -detail.length);
    }
    throw new DateTimeError(message, { cause: error });
  }
}

// ---- zones --------------------------------------------------------------------------------------

let systemZone: ZoneId | undefined;

/** ZoneId.of(id); ZoneId.systemDefault() (the process's TZ, like the JVM's) when id is undefined. */
export function zoneOf(id: string | undefined): ZoneId {
  if (id === undefined) return (systemZone ??= ZoneId.systemDefault());
  // @js-joda reads 'SYSTEM' as the default zone; Java knows no such ID.
  if (id === 'SYSTEM') throw new DateTimeError(`Unknown time-zone ID: ${id}`);
  return javaTime(() => ZoneId.of(id));
}

// ---- formatters ---------------------------------------------------------------------------------

const iso = (builder: DateTimeFormatterBuilder) => builder.toFormatter(ResolverStyle.STRICT);
const offsetSuffix = (builder: DateTimeFormatterBuilder) => builder.optionalStart().appendOffsetId();
const zoneSuffix = (builder: DateTimeFormatterBuilder) => builder.optionalStart().appendLiteral('[').parseCaseSensitive().appendZoneId().appendLiteral(']');

/**
 * Kestra's named formats (AbstractDate.FORMATTERS). Four of @js-joda's ISO formatters are not Java's:
 * its ISO_DATE_TIME lacks the zone, its ordinal and week dates the optional offset (and the ordinal day
 * its padding), and its RFC 1123 pads the day and prints the zone's ID (`Europe/Paris`) for Java's
`GMT` or `+0100`.
 */
const NAMED_FORMATS = new Map<string, DateTimeFormatter>([
  ['iso', DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")],
  ['iso_sec', DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssXXX")],
  ['sql', DateTimeFormatter.ofPattern('yyyy-MM-dd HH:mm:ss.SSSSSS')],
  ['sql_seq', DateTimeFormatter.ofPattern('yyyy-MM-dd HH:mm:ss')],
  ['iso_date_time', iso(zoneSuffix(offsetSuffix(new DateTimeFormatterBuilder().append(DateTimeFormatter.ISO_LOCAL_DATE_TIME))))],
  ['iso_date', DateTimeFormatter.ISO_DATE],
  ['iso_time', DateTimeFormatter.ISO_TIME],
  ['iso_local_date', DateTimeFormatter.ISO_LOCAL_DATE],
  ['iso_instant', DateTimeFormatter.ISO_INSTANT],
  ['iso_local_date_time', DateTimeFormatter.ISO_LOCAL_DATE_TIME],
  ['iso_local_time', DateTimeFormatter.ISO_LOCAL_TIME],
  ['iso_offset_time', DateTimeFormatter.ISO_OFFSET_TIME],
  [
    'iso_ordinal_date',
    iso(offsetSuffix(new DateTimeFormatterBuilder().parseCaseInsensitive().appendValue(ChronoField.YEAR, 4, 10, SignStyle.EXCEEDS_PAD).appendLiteral('-').appendValue(ChronoField.DAY_OF_YEAR, 3))),
  ],
  [
    'iso_week_date',
    iso(
      offsetSuffix(
        new DateTimeFormatterBuilder()
          .parseCaseInsensitive()
          .appendValue(IsoFields.WEEK_BASED_YEAR, 4, 10, SignStyle.EXCEEDS_PAD)
          .appendLiteral('-W')
          .appendValue(IsoFields.WEEK_OF_WEEK_BASED_YEAR, 2)
          .appendLiteral('-')
          .appendValue(ChronoField.DAY_OF_WEEK, 1),
      ),
    ),
  ],
  ['iso_zoned_date_time', DateTimeFormatter.ISO_ZONED_DATE_TIME],
  // Java's names its days and months from fixed English tables, whatever the locale.
  ['rfc_1123_date_time', new DateTimeFormatterBuilder().appendPattern('[EEE, ]d MMM uuuu HH:mm[:ss] ').appendOffset('+HHMM', 'GMT').toFormatter().withLocale(Locale.US)],
]);

/** Printed the same in every locale. */
const LOCALE_FREE = new Set(['rfc_1123_date_time']);

/**
 * Java prints the zone of these in brackets only when it is a region (appendZoneRegionId, which
 * @js-joda lacks): with an offset zone (`+02:00`) they print as ISO_OFFSET_DATE_TIME.
 */
const REGION_ONLY = new Set(['iso_date_time', 'iso_zoned_date_time']);

const STYLES = new Set(['full', 'long', 'medium', 'short']);

/**
 * How Java 9+ reads a ZonedDateTime by default (ISO_ZONED_DATE_TIME): its offset is read leniently,
 * so `+01` is `+01:00`. @js-joda is a port of Java 8, whose offset needs minutes; the two optional
 * offsets read either form.
 */
const ISO_ZONED_PARSER = iso(
  zoneSuffix(
    new DateTimeFormatterBuilder()
      .parseCaseInsensitive()
      .append(DateTimeFormatter.ISO_LOCAL_DATE_TIME)
      .optionalStart()
      .appendOffset('+HH:MM:ss', 'Z')
      .optionalEnd()
      .optionalStart()
      .appendOffset('+HH:mm', 'Z')
      .optionalEnd(),
  ),
);

/** Patterns come from templates: bounded, the least recently used go first. */
const patterns = new LRUCache<string, DateTimeFormatter>({ max: 1000 });

/** A named format or a DateTimeFormatter pattern. */
function formatterOf(format: string): DateTimeFormatter {
  const named = NAMED_FORMATS.get(format);
  if (named) return named;
  let formatter = patterns.get(format);
  if (!formatter) {
    formatter = javaTime(() => DateTimeFormatter.ofPattern(format));
    patterns.set(format, formatter);
  }
  return formatter;
}

// ---- locales ------------------------------------------------------------------------------------

const locales = new LRUCache<string, Locale>({ max: 200 });
locales.set('en-US', Locale.US);

/**
 * Kestra's `locale` argument (`fr`, `fr_FR`, `pt-BR`; LocaleUtils.toLocale) as a Locale whose month and
 * day names @js-joda can print. English is @js-joda's own CLDR data; other languages' names are read
 * from Node's ICU (CLDR too), as @js-joda's packages for them weigh ~3 MB a language.
 */
function localeOf(tag: string): Locale {
  let locale = locales.get(tag);
  if (locale) return locale;
  let resolved: Intl.Locale;
  try {
    // What ICU has data for: `fr-XX` is `fr`, so the locales registered below are bounded by ICU's.
    resolved = new Intl.Locale(new Intl.DateTimeFormat(tag.replace(/_/g, '-')).resolvedOptions().locale);
  } catch (error) {
    throw new DateTimeError(`Invalid locale format: ${tag}`, { cause: error });
  }
  const name = resolved.baseName;
  const english = resolved.language === 'en' && (resolved.region === undefined || resolved.region === 'US');
  if (!english) registerLocaleData(`main/${name}/ca-gregorian.json`, calendarNames(name));
  locale = new Locale(resolved.language, resolved.region ?? '', english ? 'en' : name);
  locales.set(tag, locale);
  return locale;
}

/** The CLDR calendar names @js-joda/locale reads, as ICU formats them in `tag`. */
function calendarNames(tag: string): object {
  const names = <K extends string>(keys: readonly K[], dates: readonly number[], part: Intl.DateTimeFormatPartTypes, options: Intl.DateTimeFormatOptions) => {
    const format = new Intl.DateTimeFormat(tag, { timeZone: 'UTC', ...options });
    return Object.fromEntries(keys.map((key, i) => [key, format.formatToParts(dates[i]).find((p) => p.type === part)?.value ?? ''])) as Record<K, string>;
  };
  const styles = <K extends string>(keys: readonly K[], dates: readonly number[], part: Intl.DateTimeFormatPartTypes, options: (style: 'long' | 'short' | 'narrow') => Intl.DateTimeFormatOptions) => ({
    wide: names(keys, dates, part, options('long')),
    abbreviated: names(keys, dates, part, options('short')),
    narrow: names(keys, dates, part, options('narrow')),
  });
  const months = Array.from({ length: 12 }, (_, m) => Date.UTC(2001, m, 15));
  // 2001-01-01 was a Monday.
  const days = Array.from({ length: 7 }, (_, d) => Date.UTC(2001, 0, 1 + d));
  const halfDays = [Date.UTC(2001, 0, 1, 9), Date.UTC(2001, 0, 1, 21)];
  const amPm = names(['am', 'pm'], halfDays, 'dayPeriod', { hour: 'numeric', hour12: true });
  const eras = (style: 'long' | 'short' | 'narrow') => names(['0', '1'], [Date.UTC(-1, 0, 1), Date.UTC(2001, 0, 1)], 'era', { era: style, year: 'numeric' });
  const gregorian = {
    // The format form (`1 марта`), which Java prints for MMMM.
    months: { format: styles(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'], months, 'month', (month) => ({ month, day: 'numeric' })) },
    days: { format: styles(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], days, 'weekday', (weekday) => ({ weekday })) },
    dayPeriods: { format: { wide: amPm, abbreviated: amPm, narrow: amPm } },
    eras: { eraNames: eras('long'), eraAbbr: eras('short'), eraNarrow: eras('narrow') },
    // Intl names no quarters: English's stand in.
    quarters: {
      format: {
        wide: { 1: '1st quarter', 2: '2nd quarter', 3: '3rd quarter', 4: '4th quarter' },
        abbreviated: { 1: 'Q1', 2: 'Q2', 3: 'Q3', 4: 'Q4' },
        narrow: { 1: '1', 2: '2', 3: '3', 4: '4' },
      },
    },
  };
  return { main: { [tag]: { dates: { calendars: { gregorian } } } } };
}

// ---- dates --------------------------------------------------------------------------------------

/** ZonedDateTime.now(zone) to the microsecond, as Java's clock reads it (Date.now() has milliseconds). */
export function now(zone: ZoneId): ZonedDateTime {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  return Instant.ofEpochSecond(Math.floor(micros / 1e6), (micros % 1e6) * 1000).atZone(zone);
}

/**
 * AbstractDate.convert: a Date, epoch seconds, or a string read as a ZonedDateTime, else as a
 * LocalDateTime, else as a LocalDate (at the start of the day) in `zone`, with `existingFormat` (a
 * named format or a pattern) or ISO-8601.
 */
export function toZonedDateTime(value: unknown, zone: ZoneId, existingFormat?: string): ZonedDateTime {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new DateTimeError('Invalid Date');
    return javaTime(() => Instant.ofEpochMilli(ms).atZone(zone));
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new DateTimeError(`Unable to convert the number ${value} to a date, epoch seconds must be an integer`);
    return javaTime(() => Instant.ofEpochSecond(value).atZone(zone));
  }
  if (typeof value !== 'string') {
    throw new DateTimeError(`Unable to convert a value of type ${value === null ? 'null' : typeof value} to a date`);
  }
  // Java parses with the JVM's default locale: English names.
  const format = existingFormat === undefined ? undefined : formatterOf(existingFormat).withLocale(Locale.US);
  return javaTime(() => {
    try {
      return ZonedDateTime.parse(value, format ?? ISO_ZONED_PARSER);
    } catch (error) {
      if (!(error instanceof DateTimeParseException)) throw error;
    }
    try {
      return LocalDateTime.parse(value, format ?? DateTimeFormatter.ISO_LOCAL_DATE_TIME).atZone(zone);
    } catch (error) {
      if (!(error instanceof DateTimeParseException)) throw error;
    }
    return LocalDate.parse(value, format ?? DateTimeFormatter.ISO_LOCAL_DATE).atStartOfDay().atZone(zone);
  });
}

/**
 * `date` seen in `zone` (the formatter's withZone), printed with a named format, a style (`full` …
 * `short`) or a DateTimeFormatter pattern, in `localeTag`.
 */
export function formatDate(date: ZonedDateTime, format: string, zone: ZoneId, localeTag = 'en-US'): string {
  const zoned = javaTime(() => date.withZoneSameInstant(zone));
  const locale = localeOf(localeTag);
  if (STYLES.has(format)) return localizedStyle(zoned, format as Intl.DateTimeFormatOptions['dateStyle'], locale);
  let formatter: DateTimeFormatter;
  if (REGION_ONLY.has(format) && zoned.zone() instanceof ZoneOffset) formatter = DateTimeFormatter.ISO_OFFSET_DATE_TIME;
  else formatter = formatterOf(NAMED_FORMATS.has(format) ? format : withZoneNames(format, zoned, locale));
  return javaTime(() => (LOCALE_FREE.has(format) ? formatter : formatter.withLocale(locale)).format(zoned));
}

/**
 * Zone names as Java prints them. For `z` @js-joda prints CLDR's generic name (`ET`, `Eastern Time`),
 * which is Java's `v`, and knows no `v`; Java's `z` is the specific name (`EST`, `Eastern Daylight
 * Time`), which Intl prints. So `z` becomes Intl's name, quoted, and `v` @js-joda's `z`.
 */
function withZoneNames(pattern: string, date: ZonedDateTime, locale: Locale): string {
  if (!/[zv]/.test(pattern)) return pattern;
  return pattern.replace(/'[^']*'|(?<!z)z{1,4}(?!z)|(?<!v)v(?:vvv)?(?!v)/g, (token) => {
    if (token[0] === "'") return token;
    if (token[0] === 'v') return token.replaceAll('v', 'z');
    return `'${zoneName(date, token.length === 4 ? 'long' : 'short', locale).replaceAll("'", "''")}'`;
  });
}

/** Intl's formatter in the zone, or undefined for a zone it cannot name: offsets (`+02:00`, `UTC+02:00`). */
function intlFormat(locale: Locale, zone: ZoneId, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat | undefined {
  try {
    return new Intl.DateTimeFormat(locale.localeString(), { ...options, timeZone: zone.id() });
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** ZoneTextPrinterParser: an offset zone prints its ID; a region the name Intl gives it on that date. */
function zoneName(date: ZonedDateTime, style: 'long' | 'short', locale: Locale): string {
  const zone = date.zone();
  const format = zone instanceof ZoneOffset ? undefined : intlFormat(locale, zone, { timeZoneName: style });
  return format?.formatToParts(date.toInstant().toEpochMilli()).find((part) => part.type === 'timeZoneName')?.value ?? zone.id();
}

/** DateTimeFormatter.ofLocalizedDateTime(style): @js-joda has no localized patterns; Intl has CLDR's. */
function localizedStyle(date: ZonedDateTime, style: Intl.DateTimeFormatOptions['dateStyle'], locale: Locale): string {
  const options = { dateStyle: style, timeStyle: style };
  const format = intlFormat(locale, date.zone(), options);
  if (format) return format.format(date.toInstant().toEpochMilli());
  // An offset zone prints its wall time and, as Java does, its ID.
  const wallTime = date.toLocalDateTime().atZone(ZoneOffset.UTC).toInstant().toEpochMilli();
  return new Intl.DateTimeFormat(locale.localeString(), { ...options, timeZone: 'UTC' })
    .formatToParts(wallTime)
    .map((part) => (part.type === 'timeZoneName' ? date.zone().id() : part.value))
    .join('');
}

/** ZonedDateTime.plus(amount, ChronoUnit.valueOf(unit)). */
export function plus(date: ZonedDateTime, amount: number, unit: string): ZonedDateTime {
  const chronoUnit: unknown = Object.hasOwn(ChronoUnit, unit) ? (ChronoUnit as unknown as Record<string, unknown>)[unit] : undefined;
  if (!(chronoUnit instanceof ChronoUnit)) throw new DateTimeError(`No enum constant java.time.temporal.ChronoUnit.${unit}`);
  return javaTime(() => date.plus(amount, chronoUnit));
}

/** Nanoseconds since the epoch. */
export function epochNanos(date: ZonedDateTime): bigint {
  return BigInt(date.toEpochSecond()) * 1_000_000_000n + BigInt(date.nano());
}
