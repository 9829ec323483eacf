// java.text.DecimalFormat for the `numberFormat` filter: `0` and `#` digits, `,` grouping,
// `.` decimal point, `%` scaling, quoted or plain prefix/suffix text, HALF_EVEN rounding.

interface DecimalPattern {
  prefix: string;
  suffix: string;
  minInteger: number;
  grouping: number;
  minFraction: number;
  maxFraction: number;
  multiplier: number;
}

const cache = new Map<string, DecimalPattern>();

function compile(pattern: string): DecimalPattern {
  const cached = cache.get(pattern);
  if (cached) return cached;
  const positive = pattern.split(';')[0];
  const start = positive.search(/[#0,.]/);
  if (start < 0) throw new Error(`Malformed pattern "${pattern}"`);
  let end = start;
  while (end < positive.length && '#0,.'.includes(positive[end])) end++;
  const unquote = (s: string) => s.replace(/'([^']*)'/g, '$1');
  const prefix = unquote(positive.slice(0, start));
  const suffix = unquote(positive.slice(end));
  const number = positive.slice(start, end);
  const [integerPart, fractionPart = ''] = number.split('.');
  const lastComma = integerPart.lastIndexOf(',');
  const compiled: DecimalPattern = {
    prefix,
    suffix,
    minInteger: (integerPart.match(/0/g) ?? []).length,
    grouping: lastComma < 0 ? 0 : integerPart.length - lastComma - 1,
    minFraction: (fractionPart.match(/0/g) ?? []).length,
    maxFraction: fractionPart.replace(/[^#0]/g, '').length,
    multiplier: prefix.includes('%') || suffix.includes('%') ? 100 : 1,
  };
  if (cache.size > 200) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

/** Rounds half to even at `digits` fraction digits, as DecimalFormat does by default. */
function roundHalfEven(value: number, digits: number): number {
  const factor = 10 ** digits;
  const scaled = value * factor;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  const epsilon = 1e-9 * Math.max(1, Math.abs(scaled));
  let rounded: number;
  if (Math.abs(diff - 0.5) < epsilon) rounded = floor % 2 === 0 ? floor : floor + 1;
  else rounded = Math.round(scaled);
  return rounded / factor;
}

export function formatDecimal(value: number, pattern: string): string {
  const p = compile(pattern);
  const scaled = roundHalfEven(Math.abs(value * p.multiplier), p.maxFraction);
  const [intDigits, fracDigits = ''] = scaled.toFixed(p.maxFraction).split('.');
  let integer = intDigits === '0' && p.minInteger === 0 ? '' : intDigits.padStart(p.minInteger, '0');
  if (p.grouping > 0 && integer.length > p.grouping) {
    const groups: string[] = [];
    for (let i = integer.length; i > 0; i -= p.grouping) groups.unshift(integer.slice(Math.max(0, i - p.grouping), i));
    integer = groups.join(',');
  }
  let fraction = fracDigits;
  while (fraction.length > p.minFraction && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  const negative = value < 0 && (Number(intDigits) !== 0 || /[1-9]/.test(fraction));
  const body = fraction ? `${integer}.${fraction}` : integer || '0';
  return `${negative ? '-' : ''}${p.prefix}${body}${p.suffix}`;
}
