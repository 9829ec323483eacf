/** A literal for LIKE patterns: `%`, `_` and `\` match only themselves (PostgreSQL's default escape). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
