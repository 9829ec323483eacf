import { limitHint, type Limits } from '../../config/index.ts';

/**
 * A line longer than `limits.logLineChars` is kept to that many characters, followed by a marker that
 * says how much was cut, which limit cut it and how to raise it, and where the whole line is when it
 * was stored in internal storage (BATON_LOG_FULL_LINES). The marker comes on top of the limit, so the
 * kept text is exactly `logLineChars` characters (one less when that would split a surrogate pair).
 */
export function cutLine(text: string, limits: Limits, wholeLineUri?: string): string {
  const keep = keptLength(text, limits.logLineChars);
  if (keep >= text.length) return text;
  const where = wholeLineUri ? `; whole line: ${wholeLineUri}` : '';
  return `${text.slice(0, keep)}… [truncated ${text.length - keep} characters${where}; ${limitHint('logLineChars', limits)}]`;
}

function keptLength(text: string, max: number): number {
  if (text.length <= max) return text.length;
  const last = text.charCodeAt(max - 1);
  // A high surrogate kept without its low half would be an unpaired (unstorable) character.
  return last >= 0xd800 && last <= 0xdbff ? max - 1 : max;
}
