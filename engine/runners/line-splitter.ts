/**
 * Cuts a byte stream into text lines the way Kestra's log reader does (Java's `readLine`):
 * `\n`, `\r\n` and a lone `\r` all end a line, and the terminator is not part of the line.
 * Bytes are kept until a line is complete, so a UTF-8 character split across chunks stays whole.
 */

/** A line longer than this is delivered in pieces of at most this many bytes, so output without newlines cannot exhaust memory. */
export const MAX_LINE_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  /** The previous chunk ended with `\r`: a `\n` starting the next one belongs to the same terminator. */
  private afterCR = false;

  constructor(private readonly maxLineBytes: number = MAX_LINE_BYTES) {
    if (maxLineBytes < 4) throw new RangeError('maxLineBytes must hold at least one UTF-8 character');
  }

  /** Feeds a chunk; returns the lines it completed, in order. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    if (this.afterCR) {
      this.afterCR = false;
      if (chunk.length > 0 && chunk[0] === LF) start = 1;
    }
    for (let i = start; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte !== LF && byte !== CR) continue;
      this.append(chunk.subarray(start, i), lines);
      lines.push(this.take());
      if (byte === CR) {
        if (i + 1 === chunk.length) this.afterCR = true;
        else if (chunk[i + 1] === LF) i++;
      }
      start = i + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start), lines);
    return lines;
  }

  /** The unterminated last line, if the stream ended without a newline. */
  end(): string[] {
    return this.size > 0 ? [this.take()] : [];
  }

  private append(bytes: Buffer, lines: string[]): void {
    let rest = bytes;
    while (this.size + rest.length > this.maxLineBytes) {
      const room = this.maxLineBytes - this.size;
      const cut = utf8Boundary(rest, room, this.size);
      if (cut > 0) {
        this.parts.push(rest.subarray(0, cut));
        this.size += cut;
      }
      lines.push(this.take());
      rest = rest.subarray(cut);
    }
    if (rest.length > 0) {
      this.parts.push(rest);
      this.size += rest.length;
    }
  }

  private take(): string {
    const text = this.parts.length === 1 ? this.parts[0].toString('utf8') : Buffer.concat(this.parts, this.size).toString('utf8');
    this.parts = [];
    this.size = 0;
    return text;
  }
}

/**
 * The largest cut ≤ `room` that does not split a UTF-8 character, so forced pieces decode cleanly.
 * A byte 10xxxxxx continues a character: step back (at most 3 bytes) to that character's lead byte.
 */
function utf8Boundary(bytes: Buffer, room: number, pendingSize: number): number {
  const limit = Math.min(room, bytes.length);
  let cut = limit;
  let steps = 0;
  while (cut > 0 && cut < bytes.length && steps < 3 && (bytes[cut] & 0xc0) === 0x80) {
    cut--;
    steps++;
  }
  // Nothing fits before the character starts: emit what is pending, or (no pending bytes: invalid input) cut anyway.
  if (cut === 0 && pendingSize === 0) return limit;
  return cut;
}
