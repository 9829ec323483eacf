/**
 * Schema timestamps are `mode: 'string'`: both drivers return PostgreSQL's text form
 * (`2024-05-01 12:00:00.123+00`, the session zone being UTC). API payloads want ISO-8601.
 */
export function toIsoTimestamp(value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a timestamp: '${value}'`);
  return date.toISOString();
}
