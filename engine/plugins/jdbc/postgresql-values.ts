/**
 * PostgreSQL values as Kestra's PostgresCellConverter hands them to its outputs (then to JSON):
 * timestamps as ISO local date-times, timestamptz as ISO with the offset of `timeZoneId`, numerics
 * and int8 as numbers (as strings past what a double holds exactly), intervals as ISO durations,
 * bytea as base64, json parsed. The parsers read PostgreSQL's text format, so nothing passes
 * through a JavaScript Date in the process's own time zone.
 */

const OID = {
  int8: 20,
  numeric: 1700,
  date: 1082,
  time: 1083,
  timetz: 1266,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  bytea: 17,
  money: 790,
  void: 2278,
} as const;

/** A postgres.js `types` option: one entry per converted type. */
export type PostgresTypeParsers = Record<string, { to: number; from: number[]; serialize: (x: unknown) => string; parse: (x: string) => unknown }>;

/** Parsers for postgres.js, converting as Kestra does; `zone` is the IANA zone of timestamptz values. */
export function kestraTypeParsers(zone: string): PostgresTypeParsers {
  const text = (x: unknown) => String(x);
  return {
    kestraInt8: { to: OID.int8, from: [OID.int8], serialize: text, parse: parseExactNumber },
    kestraNumeric: { to: OID.numeric, from: [OID.numeric], serialize: text, parse: parseExactNumber },
    // Dates and times stay in PostgreSQL's text, which already is ISO-8601 (LocalDate, LocalTime).
    kestraDate: { to: OID.date, from: [OID.date, OID.time, OID.timetz, OID.money], serialize: text, parse: (x) => x },
    kestraTimestamp: { to: OID.timestamp, from: [OID.timestamp], serialize: text, parse: (x) => x.replace(' ', 'T') },
    kestraTimestamptz: {
      to: OID.timestamptz,
      from: [OID.timestamptz],
      serialize: (x) => (x instanceof Date ? x.toISOString() : String(x)),
      parse: (x) => timestamptzInZone(x, zone),
    },
    kestraInterval: { to: OID.interval, from: [OID.interval], serialize: text, parse: isoInterval },
    kestraBytea: {
      to: OID.bytea,
      from: [OID.bytea],
      serialize: (x) => '\\x' + Buffer.from(x as Uint8Array).toString('hex'),
      parse: (x) => Buffer.from(x.slice(2), 'hex').toString('base64'),
    },
    kestraVoid: { to: OID.void, from: [OID.void], serialize: text, parse: () => null },
  };
}

/** A number when a double holds it exactly (up to 15 significant digits), else the exact text. */
export function parseExactNumber(text: string): number | string {
  const digits = text.replace(/^[-+]/, '').replace(/\./, '').replace(/^0+/, '').replace(/e.*$/i, '');
  const value = Number(text);
  if (!Number.isFinite(value) || digits.length > 15) return text;
  return value;
}

/**
 * `2020-01-01 00:10:00.5+01` (any session zone) as the same instant in `zone`:
 * `2020-01-01T00:10:00.5+01:00` or `…Z` in UTC. Infinity and BC dates keep PostgreSQL's text.
 */
export function timestamptzInZone(text: string, zone: string): string {
  const m = /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, fraction = '', sign, oh, om = '00', os = '00'] = m;
  const offsetSeconds = (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60 + Number(os));
  const utcMillis = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetSeconds * 1000;
  const targetOffset = zoneOffsetSeconds(zone, utcMillis);
  const local = new Date(utcMillis + targetOffset * 1000);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const wall =
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction}`;
  return wall + formatOffset(targetOffset);
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** Seconds east of UTC of `zone` at the instant `utcMillis`. */
function zoneOffsetSeconds(zone: string, utcMillis: number): number {
  let format = offsetFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    offsetFormats.set(zone, format);
  }
  const name = format.formatToParts(new Date(utcMillis)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0));
}

function formatOffset(seconds: number): string {
  if (seconds === 0) return 'Z';
  const sign = seconds < 0 ? '-' : '+';
  const abs = Math.abs(seconds);
  const hh = String(Math.floor(abs / 3600)).padStart(2, '0');
  const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, '0');
  const ss = abs % 60;
  return `${sign}${hh}:${mm}${ss ? ':' + String(ss).padStart(2, '0') : ''}`;
}

/**
 * PostgreSQL's default interval text (`1 year 2 mons 3 days -04:05:06.5`) as Kestra writes a
 * PGInterval: `P1Y2M3DT-4H-5M-6S` (every field present, whole seconds).
 */
export function isoInterval(text: string): string {
  let years = 0, months = 0, days = 0, hours = 0, minutes = 0, seconds = 0;
  const re = /([+-]?\d+) (year|mon|day)s?|([+-])?(\d+):(\d{2}):(\d{2})(?:\.\d+)?/g;
  let matched = false;
  for (const m of text.matchAll(re)) {
    matched = true;
    if (m[2] === 'year') years = Number(m[1]);
    else if (m[2] === 'mon') months = Number(m[1]);
    else if (m[2] === 'day') days = Number(m[1]);
    else {
      const sign = m[3] === '-' ? -1 : 1;
      hours = sign * Number(m[4]);
      minutes = sign * Number(m[5]);
      seconds = sign * Number(m[6]);
    }
  }
  if (!matched) return text;
  return `P${years}Y${months}M${days}DT${hours}H${minutes}M${seconds}S`;
}

/**
 * PostgreSQL's text form of an array as a list, elements through `parseElement` (NULL → null):
 * `{1,2,NULL}`, quoted elements (`{"a,b","say \"hi\""}`), nested arrays (`{{1,2},{3,4}}`), and
 * the `[0:2]={…}` prefix of arrays not starting at 1. Throws naming the offset of malformed input.
 */
export function parseArrayLiteral(text: string, parseElement: (value: string) => unknown, delimiter = ','): unknown[] {
  let i = 0;
  const fail = (): never => {
    throw new Error(`malformed array value at character ${i + 1}: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
  };
  if (text.startsWith('[')) {
    i = text.indexOf('=') + 1;
    if (i === 0) fail();
  }
  const list = (): unknown[] => {
    if (text[i] !== '{') fail();
    i++;
    const out: unknown[] = [];
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] === '{') {
        out.push(list());
      } else if (text[i] === '"') {
        let value = '';
        for (i++; text[i] !== '"'; i++) {
          if (i >= text.length) fail();
          if (text[i] === '\\') i++;
          value += text[i];
        }
        i++;
        out.push(parseElement(value));
      } else {
        const start = i;
        while (i < text.length && text[i] !== delimiter && text[i] !== '}') i++;
        const raw = text.slice(start, i);
        // Unquoted NULL is the null element; a string "NULL" comes quoted.
        out.push(raw.toUpperCase() === 'NULL' ? null : parseElement(raw));
      }
      if (text[i] === delimiter) i++;
      else if (text[i] === '}') {
        i++;
        return out;
      } else fail();
    }
  };
  const parsed = list();
  if (i !== text.length) fail();
  return parsed;
}

/** What `registerArrayTypes` needs of a connection: a query, and the driver's parsers by type oid. */
interface ArrayTypeTarget {
  unsafe(query: string): PromiseLike<readonly Record<string, unknown>[]>;
  options: { parsers: Record<number, (value: string) => unknown> };
}

/**
 * Makes array columns come back as lists, each element converted as a column of its type would be.
 * postgres.js can do this itself on connect (`fetch_types`), but it does not await that query: a
 * connection reset while it runs (a PostgreSQL restart) became an unhandled rejection that ended the
 * whole process (porsager/postgres#1192). Here the same catalog query is awaited like any other, so
 * such a reset fails the task, and only the task.
 */
export async function registerArrayTypes(sql: ArrayTypeTarget): Promise<void> {
  const rows = await sql.unsafe(`
    SELECT e.oid AS element, a.oid AS array, e.typdelim AS delimiter
    FROM pg_catalog.pg_type a JOIN pg_catalog.pg_type e ON e.oid = a.typelem
    WHERE a.typcategory = 'A' AND e.typarray = a.oid`);
  const parsers = sql.options.parsers;
  for (const row of rows) {
    const arrayOid = Number(row.array);
    if (parsers[arrayOid]) continue;
    const elementOid = Number(row.element);
    const delimiter = String(row.delimiter ?? ',');
    // Looked up when a value arrives: a parser registered later for the element type still applies.
    parsers[arrayOid] = (value: string) => parseArrayLiteral(value, (element) => (parsers[elementOid] ?? String)(element), delimiter);
  }
}
