import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../config/index.ts';
import { LineSplitter } from '../runners/line-splitter.ts';
import { cutLine } from './line-cut.ts';
import { ESCAPED_NUL, asciiEscaped, storableText } from './storable-text.ts';

const isWellFormed = (text: string) => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

describe('storableText', () => {
  it('returns the same string when there is nothing to escape', () => {
    const line = 'plain line, accents é and emoji 🎉';
    expect(storableText(line)).toBe(line);
  });

  it('spells NUL as \\u0000 and a lone surrogate as U+FFFD', () => {
    expect(storableText('x\u0000y\u0000')).toBe(`x${ESCAPED_NUL}y${ESCAPED_NUL}`);
    expect(storableText('a\ud800b')).toBe('a\ufffdb');
    expect(storableText('\u0000\udc00')).toBe(`${ESCAPED_NUL}\ufffd`);
  });

  it('turns any bytes a process prints into text PostgreSQL accepts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const splitter = new LineSplitter();
        for (const line of [...splitter.push(Buffer.from(bytes)), ...splitter.end()]) {
          const stored = storableText(line);
          expect(stored.includes('\u0000')).toBe(false);
          expect(isWellFormed(stored)).toBe(true);
          // Nothing but NUL changes: undoing the escape gives the decoded line back.
          expect(stored.replaceAll(ESCAPED_NUL, '\u0000')).toBe(line.replaceAll(ESCAPED_NUL, '\u0000'));
        }
      }),
    );
  });

  it('keeps invalid UTF-8 visible as U+FFFD (the decoder’s replacement)', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from('x\u0000\n\xff\n', 'latin1')).map(storableText)).toEqual([`x${ESCAPED_NUL}`, '\ufffd']);
  });
});

describe('asciiEscaped', () => {
  it('leaves printable ASCII readable and escapes everything else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const escaped = asciiEscaped(text);
        expect(escaped).toMatch(/^[\x20-\x7e]*$/);
        expect(JSON.parse(`"${escaped}"`)).toBe(text);
      }),
    );
  });
});

describe('cutLine', () => {
  const limits = { ...DEFAULT_LIMITS, logLineChars: 10 };

  it('keeps a line at the limit as it is', () => {
    expect(cutLine('0123456789', limits)).toBe('0123456789');
  });

  it('cuts a longer line with a marker naming the limit, its variable and what was cut', () => {
    expect(cutLine('0123456789abc', limits)).toBe(
      '0123456789… [truncated 3 characters; limit of 10 chars (raise it with BATON_LIMIT_LOG_LINE_CHARS)]',
    );
    expect(cutLine('0123456789abc', limits, 'kestra:///a/b.txt')).toBe(
      '0123456789… [truncated 3 characters; whole line: kestra:///a/b.txt; limit of 10 chars (raise it with BATON_LIMIT_LOG_LINE_CHARS)]',
    );
  });

  it('never splits a surrogate pair', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 11, maxLength: 40 }), (text) => {
        const cut = cutLine(text, limits);
        expect(isWellFormed(cut)).toBe(true);
        expect(text.startsWith(cut.slice(0, cut.indexOf('… [truncated')))).toBe(true);
      }),
    );
  });
});
