/**
 * The size of a git object read from its header alone: the pack entry's header (for a delta, the first
 * bytes of the delta) or the first bytes of a loose object. isomorphic-git can only read an object
 * whole, inflating it on the event loop (a 10 MB blob holds it for a quarter of a second or more); a
 * flow over the size limit is refused by this size without ever being read.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { constants, inflateSync } from 'node:zlib';

const IDX_MAGIC = 0xff744f63; // "\377tOc"
const SHA1_BYTES = 20;
const OBJ_OFS_DELTA = 6;
const OBJ_REF_DELTA = 7;
/** Enough compressed bytes to hold a delta's two size varints or a loose object's "blob <size>\0". */
const HEADER_PREFIX_BYTES = 64;
/** A pack entry's header plus an OFS_DELTA base offset or a REF_DELTA base id, before the zlib data. */
const ENTRY_HEADER_MAX_BYTES = 32;

/** One pack's .idx (version 2): object ids sorted, with their offsets in the .pack. */
export class PackIndex {
  private constructor(
    readonly packFile: string,
    private readonly data: Buffer,
    private readonly count: number,
  ) {}

  /** Reads a version 2 index of SHA-1 objects; undefined for any other kind (the caller then reads the object whole). */
  static async read(idxFile: string): Promise<PackIndex | undefined> {
    const handle = await open(idxFile, 'r');
    let data: Buffer;
    try {
      data = await handle.readFile();
    } finally {
      await handle.close();
    }
    if (data.length < 8 + 256 * 4 || data.readUInt32BE(0) !== IDX_MAGIC || data.readUInt32BE(4) !== 2) return undefined;
    const count = data.readUInt32BE(8 + 255 * 4);
    if (data.length < 8 + 256 * 4 + count * (SHA1_BYTES + 8) + SHA1_BYTES * 2) return undefined;
    return new PackIndex(idxFile.replace(/\.idx$/, '.pack'), data, count);
  }

  /** Where the object starts in the .pack, or undefined when this pack does not hold it. */
  offsetOf(oid: string): number | undefined {
    if (oid.length !== SHA1_BYTES * 2) return undefined;
    const id = Buffer.from(oid, 'hex');
    const fanout = 8;
    const names = fanout + 256 * 4;
    let low = id[0] === 0 ? 0 : this.data.readUInt32BE(fanout + (id[0] - 1) * 4);
    let high = this.data.readUInt32BE(fanout + id[0] * 4);
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = this.data.compare(id, 0, SHA1_BYTES, names + middle * SHA1_BYTES, names + (middle + 1) * SHA1_BYTES);
      if (order === 0) {
        const offsets = names + this.count * (SHA1_BYTES + 4);
        const offset = this.data.readUInt32BE(offsets + middle * 4);
        if ((offset & 0x80000000) === 0) return offset;
        // Packs over 2 GiB keep large offsets in a table of their own.
        const large = offsets + this.count * 4 + (offset & 0x7fffffff) * 8;
        return Number(this.data.readBigUInt64BE(large));
      }
      if (order < 0) high = middle;
      else low = middle + 1;
    }
    return undefined;
  }
}

/**
 * The pack indexes of a git directory, each read once: a pack file's name is its checksum, so a name
 * seen before is the same pack (packs are added and removed, never changed in place).
 */
export class PackIndexes {
  private readonly byFile = new Map<string, PackIndex>();

  constructor(private readonly gitdir: () => string) {}

  /** Forgets the indexes (the packs on disk were replaced). */
  reset(): void {
    this.byFile.clear();
  }

  async all(): Promise<PackIndex[]> {
    const folder = join(this.gitdir(), 'objects', 'pack');
    let files: string[];
    try {
      files = (await readdir(folder)).filter((name) => name.endsWith('.idx')).sort().map((name) => join(folder, name));
    } catch {
      return [];
    }
    const present = new Set(files);
    for (const file of this.byFile.keys()) if (!present.has(file)) this.byFile.delete(file);
    await Promise.all(files.filter((file) => !this.byFile.has(file)).map(async (file) => {
      // An index that cannot be read (or not this way) is tried again next time: its objects are read whole meanwhile.
      const index = await PackIndex.read(file).catch(() => undefined);
      if (index) this.byFile.set(file, index);
    }));
    return files.map((file) => this.byFile.get(file)).filter((index): index is PackIndex => index !== undefined);
  }
}

/**
 * The object's size in bytes from its header, or undefined when it cannot be told that way (not
 * found in this directory's packs or loose objects, an unknown format): then read it whole.
 */
export async function objectSizeFromHeader(gitdir: string, oid: string, indexes: PackIndexes): Promise<number | undefined> {
  try {
    for (const index of await indexes.all()) {
      const offset = index.offsetOf(oid);
      if (offset !== undefined) return await packedObjectSize(index.packFile, offset);
    }
    return await looseObjectSize(gitdir, oid);
  } catch {
    return undefined;
  }
}

async function packedObjectSize(packFile: string, offset: number): Promise<number | undefined> {
  const bytes = await readAt(packFile, offset, ENTRY_HEADER_MAX_BYTES + HEADER_PREFIX_BYTES);
  let position = 0;
  let byte = bytes[position++];
  const type = (byte >> 4) & 7;
  let size = byte & 0x0f;
  for (let scale = 16; byte & 0x80; scale *= 128) {
    byte = bytes[position++];
    size += (byte & 0x7f) * scale;
  }
  if (type !== OBJ_OFS_DELTA && type !== OBJ_REF_DELTA) return size;
  // A delta: the header's size is the delta's; the result's size opens the delta data.
  if (type === OBJ_REF_DELTA) position += SHA1_BYTES;
  else while (bytes[position++] & 0x80);
  const delta = inflatePrefix(bytes.subarray(position));
  const [, afterBase] = readVarint(delta, 0);
  const [resultSize] = readVarint(delta, afterBase);
  return resultSize;
}

async function looseObjectSize(gitdir: string, oid: string): Promise<number | undefined> {
  const file = join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
  if (!(await stat(file).catch(() => undefined))) return undefined;
  const header = inflatePrefix(await readAt(file, 0, HEADER_PREFIX_BYTES));
  const match = /^[a-z]+ (\d+)\0/.exec(header.subarray(0, 32).toString('latin1'));
  return match ? Number(match[1]) : undefined;
}

async function readAt(file: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The first bytes a zlib stream's prefix inflates to (64 compressed bytes give at most ~64 KiB). */
function inflatePrefix(prefix: Buffer): Buffer {
  return inflateSync(prefix, { finishFlush: constants.Z_SYNC_FLUSH });
}

/** A git delta's size varint (7 bits a byte, least significant first): [value, next position]. */
function readVarint(bytes: Buffer, start: number): [number, number] {
  let value = 0;
  let position = start;
  for (let scale = 1; ; scale *= 128) {
    if (position >= bytes.length) throw new RangeError('truncated delta header');
    const byte = bytes[position++];
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, position];
  }
}
