import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.ts';

function feed(splitter: LineSplitter, chunks: Buffer[]): string[] {
  return [...chunks.flatMap((c) => splitter.push(c)), ...splitter.end()];
}

describe('LineSplitter', () => {
  it('keeps a UTF-8 character split across chunks whole', () => {
    const bytes = Buffer.from('é€\n', 'utf8');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    expect(feed(new LineSplitter(), chunks)).toEqual(['é€']);
  });

  it('treats \\r then \\n in the next chunk as one terminator', () => {
    expect(feed(new LineSplitter(), [Buffer.from('a\r'), Buffer.from('\nb\r'), Buffer.from('c')])).toEqual(['a', 'b', 'c']);
  });

  it('flushes the unterminated final line and nothing for a trailing newline', () => {
    expect(feed(new LineSplitter(), [Buffer.from('x\ny')])).toEqual(['x', 'y']);
    expect(feed(new LineSplitter(), [Buffer.from('x\n')])).toEqual(['x']);
    expect(feed(new LineSplitter(), [])).toEqual([]);
  });

  it('cuts an over-long line on character boundaries', () => {
    // 'é' is 2 bytes: with 5-byte pieces, a cut at byte 5 would split the third 'é'.
    const lines = feed(new LineSplitter(5), [Buffer.from('ééééé\n', 'utf8')]);
    expect(lines).toEqual(['éé', 'éé', 'é']);
    expect(lines.join('')).not.toContain('\uFFFD');
  });

  it('cuts an over-long line accumulated over several chunks', () => {
    const lines = feed(new LineSplitter(8), [Buffer.from('abcdef'), Buffer.from('ghijklmnop'), Buffer.from('q\nz')]);
    expect(lines).toEqual(['abcdefgh', 'ijklmnop', 'q', 'z']);
  });

  it('gives the same lines however the bytes are chunked, none over the limit, whatever the bytes', () => {
    // NUL, invalid UTF-8 and terminators are over-represented: they are what a misbehaving task prints.
    const byte = fc.oneof(fc.constantFrom(0x00, 0x0a, 0x0d, 0xff, 0xc3, 0xa9, 0xe2, 0x82, 0xac), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 300 }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 30 }), (bytes, cuts) => {
        const whole = Buffer.from(bytes);
        const chunks: Buffer[] = [];
        let at = 0;
        for (const size of cuts) {
          chunks.push(whole.subarray(at, at + size));
          at += size;
        }
        chunks.push(whole.subarray(at));
        const expected = feed(new LineSplitter(16), [whole]);
        const lines = feed(new LineSplitter(16), chunks);
        expect(lines).toEqual(expected);
        for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(16 * 3);
      }),
    );
  });
});
