/**
 * Docker's multiplexed attach stream (a container without a TTY): each frame is an 8-byte header —
 * stream type (1 stdout, 2 stderr), three zero bytes, payload size as a big-endian uint32 — then
 * the payload. Chunks from the socket cut frames anywhere, headers included.
 */
import type { OutputStream } from './types.ts';

const HEADER_BYTES = 8;

export interface DockerFrame {
  stream: OutputStream;
  payload: Buffer;
}

/** Thrown for bytes that cannot be a frame header (e.g. a TTY stream read as multiplexed). */
export class DockerFrameError extends Error {
  override readonly name = 'DockerFrameError';
}

export class DockerFrameParser {
  private pending: Buffer = Buffer.alloc(0);
  /** Payload bytes still owed to the frame being read, and its stream. */
  private remaining = 0;
  private current: OutputStream = 'stdout';

  /** Feeds a chunk; returns the payload pieces it completed, in order (a long frame may come in several pieces). */
  push(chunk: Buffer): DockerFrame[] {
    const frames: DockerFrame[] = [];
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.remaining > 0) {
        // Payload bytes go out as they arrive, so a large frame is never held whole in memory.
        const take = Math.min(this.remaining, data.length);
        frames.push({ stream: this.current, payload: data.subarray(0, take) });
        this.remaining -= take;
        data = data.subarray(take);
        continue;
      }
      if (data.length < HEADER_BYTES) {
        this.pending = Buffer.from(data);
        break;
      }
      const type = data[0];
      if (type !== 1 && type !== 2 && type !== 0) {
        throw new DockerFrameError(`unexpected stream type ${type} in the container's output (is a TTY attached?)`);
      }
      // stdin frames (type 0) never come from a container without open stdin; count them as stdout.
      this.current = type === 2 ? 'stderr' : 'stdout';
      this.remaining = data.readUInt32BE(4);
      data = data.subarray(HEADER_BYTES);
    }
    return frames;
  }

  /** True when the stream ended in the middle of a frame. */
  get truncated(): boolean {
    return this.pending.length > 0 || this.remaining > 0;
  }
}
