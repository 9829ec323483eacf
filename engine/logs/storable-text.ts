/**
 * Log text any process may print, made storable in a PostgreSQL `text` column without losing sight of
 * what was printed.
 *
 * - NUL (U+0000) cannot be stored in PostgreSQL text at all (the INSERT fails, and with it every line
 *   of the batch). It becomes the six visible characters `\u0000` (JSON's and JavaScript's spelling):
 *   a reader sees that a NUL byte was there and where, which U+FFFD would hide among decoding errors.
 * - Invalid UTF-8 never reaches here: output is decoded with Node's UTF-8 decoder, which puts U+FFFD
 *   in place of each bad sequence (the WHATWG rule, and what Kestra's Java reader does), so the bytes
 *   are shown the way every terminal and browser shows them, at no extra cost on the hot path.
 * - A lone UTF-16 surrogate (from a cut, or a plugin's string) becomes U+FFFD, as the drivers would
 *   silently do when encoding it, so what listeners see and what is stored agree.
 */

/** What NUL is stored as. */
export const ESCAPED_NUL = '\\u0000';

/** ES2024 String methods: Node 20 has them, the project's TypeScript lib (ES2022) does not declare them. */
interface WellFormedText {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** The text, or (only when it holds a NUL or a lone surrogate) a copy that PostgreSQL text accepts. */
export function storableText(text: string): string {
  // The common line has neither: two native scans, no allocation.
  const hasNul = text.includes('\u0000');
  if (!hasNul && (text as unknown as WellFormedText).isWellFormed()) return text;
  return ((hasNul ? text.replaceAll('\u0000', ESCAPED_NUL) : text) as unknown as WellFormedText).toWellFormed();
}

/**
 * Every character that is not printable ASCII spelled as a JSON escape: the last resort for a line the
 * database refused even after `storableText`, so it can still be stored and read.
 */
export function asciiEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
