/** Kestra's TruthUtils: null, false, 0, and the strings "false", "0", "-0" and "" are falsy. */
export function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return false;
  if (typeof value === 'number') return value !== 0;
  const s = String(value).trim();
  return !(s === '' || s === 'false' || s === '0' || s === '-0');
}
