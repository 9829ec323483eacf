/**
 * ISO-8601 durations (`PT1H`, `P1D`, `PT0.5S`, `P1W`, `P1Y2M3DT4H5M6.7S`) as used by Kestra for
 * KV TTLs, task timeouts and retry intervals.
 *
 * Not @js-joda's Duration.parse: that is java.time.Duration's grammar (days at most, a fraction on
 * seconds only, negative parts), and flows here also write weeks, months, years and `P0.5D`.
 */

const MS = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  /** A duration is a fixed length, not a calendar step: a month counts 30 days, a year 365. */
  month: 30 * 86_400_000,
  year: 365 * 86_400_000,
} as const;

type Unit = keyof typeof MS;

/** Units of SHAPE's capture groups, in the only order ISO-8601 allows (the week may stand alone: P1W). */
const UNITS: readonly Unit[] = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'];
const SHAPE = /^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i;

/** Thrown for a string that is not a non-negative ISO-8601 duration. */
export class InvalidDurationError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid ISO-8601 duration '${input}': ${reason} (expected e.g. PT30S, PT1H, P1D, P1W, P1DT2H30M)`);
    this.name = 'InvalidDurationError';
  }
}

/**
 * Length in milliseconds of an ISO-8601 duration `PnYnMnWnDTnHnMnS` (case-insensitive).
 * Only the last component may carry a fraction (`PT1.5S`, `P0.5D`); months count 30 days and years 365.
 */
export function parseIsoDuration(input: string): number {
  if (typeof input !== 'string') throw new InvalidDurationError(String(input), 'not a string');
  const text = input.trim();
  const match = SHAPE.exec(text);
  if (!match) throw new InvalidDurationError(input, 'not of the form PnYnMnWnDTnHnMnS');
  if (/T$/i.test(text)) throw new InvalidDurationError(input, "'T' must be followed by hours, minutes or seconds");

  const present = UNITS
    .map((unit, i) => ({ unit, raw: match[i + 1] }))
    .filter((c): c is { unit: Unit; raw: string } => c.raw !== undefined);
  if (present.length === 0) throw new InvalidDurationError(input, 'no component');

  let total = 0;
  present.forEach(({ unit, raw }, i) => {
    const fractional = /[.,]/.test(raw);
    if (fractional && i !== present.length - 1) {
      throw new InvalidDurationError(input, 'only the smallest component may have a fraction');
    }
    total += Number(raw.replace(',', '.')) * MS[unit];
  });
  if (!Number.isSafeInteger(Math.round(total))) throw new InvalidDurationError(input, 'too long');
  return Math.round(total);
}
