/**
 * The contract every InternalStorage backend passes. A backend's test file calls
 * `runStorageContract('<name>', make)`; `make` returns a fresh, empty store for each test.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { StorageError, type StorageErrorCode } from './errors.ts';
import type { InternalStorage } from './types.ts';

const PREFIX = 'kestra:///company/team/flow/executions/exec1';

/** Every spelling of "outside the store" and of "not a storage URI", with the code it must be refused with. */
export const HOSTILE_URIS: ReadonlyArray<readonly [string, StorageErrorCode]> = [
  ['kestra:///a/../b', 'TRAVERSAL'],
  ['kestra:///../etc/passwd', 'TRAVERSAL'],
  ['kestra://../etc/passwd', 'TRAVERSAL'],
  ['kestra:///a/./b', 'TRAVERSAL'],
  ['kestra:///a/%2e%2e/b', 'TRAVERSAL'],
  ['kestra:///a/%2E%2E/b', 'TRAVERSAL'],
  ['kestra:///a/.%2e/b', 'TRAVERSAL'],
  ['kestra:///a/..%2fetc', 'TRAVERSAL'],
  ['kestra:///a/%2F..%2F..%2Fetc', 'TRAVERSAL'],
  ['kestra:///a/..%5c..%5cetc', 'TRAVERSAL'],
  ['kestra:///a\\..\\..\\etc', 'TRAVERSAL'],
  ['kestra:///a/b\u0000.txt', 'INVALID_URI'],
  ['kestra:///a/b%00.txt', 'INVALID_URI'],
  ['kestra:///a/b%zz', 'INVALID_URI'],
  ['kestra:///a/%c0%ae%c0%ae/b', 'INVALID_URI'],
  ['kestra:///a/b?x=1', 'INVALID_URI'],
  ['file:///etc/passwd', 'INVALID_URI'],
  ['/etc/passwd', 'INVALID_URI'],
  ['../../etc/passwd', 'INVALID_URI'],
  ['', 'INVALID_URI'],
];

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function refusal(promise: Promise<unknown>): Promise<StorageError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StorageError) return error;
    throw error;
  }
  throw new Error('expected a StorageError, but the call succeeded');
}

/** A lazily generated stream of `total` bytes in `chunkSize` chunks whose content depends on the offset. */
function generatedStream(total: number, chunkSize: number): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let produced = 0;
  const stream = new Readable({
    read() {
      if (produced >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(chunkSize, total - produced);
      const chunk = Buffer.alloc(size, produced / chunkSize % 251);
      chunk.writeUInt32BE(produced, 0);
      produced += size;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

export function runStorageContract(name: string, make: () => Promise<InternalStorage>): void {
  describe(`InternalStorage contract: ${name}`, () => {
    let storage: InternalStorage;
    let scratch: string;

    beforeEach(async () => {
      storage = await make();
      scratch = await mkdtemp(path.join(tmpdir(), 'baton-storage-contract-'));
    });
    afterEach(async () => {
      await rm(scratch, { recursive: true, force: true });
    });

    describe('round trips', () => {
      test('bytes', async () => {
        const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
        const uri = await storage.put(`${PREFIX}/bin.dat`, bytes);
        expect(uri).toBe(`${PREFIX}/bin.dat`);
        expect(await storage.readBuffer(uri)).toEqual(bytes);
      });

      test('a string is stored as UTF-8', async () => {
        const uri = await storage.put(`${PREFIX}/text.txt`, 'héllo ✓\n');
        expect((await storage.readBuffer(uri)).toString('utf8')).toBe('héllo ✓\n');
        expect(await storage.size(uri)).toBe(Buffer.byteLength('héllo ✓\n'));
      });

      test('a stream in, a stream out', async () => {
        const parts = ['id,name\n', '1,a\n', '2,b\n'];
        const uri = await storage.put(`${PREFIX}/rows.csv`, Readable.from(parts.map((p) => Buffer.from(p))));
        const out = await storage.get(uri);
        expect(out).toBeInstanceOf(Readable);
        expect((await collect(out)).toString()).toBe(parts.join(''));
      });

      test('a local file is copied and left in place', async () => {
        const source = path.join(scratch, 'source.json');
        await writeFile(source, '{"a":1}');
        const uri = await storage.put(`${PREFIX}/copy.json`, { file: source });
        expect((await storage.readBuffer(uri)).toString()).toBe('{"a":1}');
        expect((await storage.readBuffer(uri)).toString()).toBe('{"a":1}');
        await writeFile(source, 'changed');
        expect((await storage.readBuffer(uri)).toString()).toBe('{"a":1}');
      });

      test('an empty object', async () => {
        const uri = await storage.put(`${PREFIX}/empty`, Buffer.alloc(0));
        expect(await storage.exists(uri)).toBe(true);
        expect(await storage.size(uri)).toBe(0);
        expect(await collect(await storage.get(uri))).toEqual(Buffer.alloc(0));
      });

      test('a second put replaces the object', async () => {
        await storage.put(`${PREFIX}/a.txt`, 'first, longer content');
        await storage.put(`${PREFIX}/a.txt`, 'second');
        expect((await storage.readBuffer(`${PREFIX}/a.txt`)).toString()).toBe('second');
      });

      test('URIs are normalised: kestra://a/b means kestra:///a/b, empty segments collapse', async () => {
        const uri = await storage.put('kestra://company/team//flow/x.txt', 'x');
        expect(uri).toBe('kestra:///company/team/flow/x.txt');
        expect((await storage.readBuffer('kestra:///company/team/flow/x.txt')).toString()).toBe('x');
      });

      test('names needing percent-escapes round-trip', async () => {
        const uri = await storage.put(`${PREFIX}/my report (1)%25.csv`, 'r');
        expect(uri).toBe(`${PREFIX}/my%20report%20(1)%25.csv`);
        expect((await storage.readBuffer(uri)).toString()).toBe('r');
        expect(await storage.list(PREFIX)).toEqual([uri]);
        const accented = await storage.put(`${PREFIX}/caf%C3%A9.txt`, 'c');
        expect((await storage.readBuffer(`${PREFIX}/café.txt`)).toString()).toBe('c');
        expect(accented).toBe(`${PREFIX}/caf%C3%A9.txt`);
      });
    });

    describe('a failed write', () => {
      test('a stream that errors leaves no object and no visible partial file', async () => {
        const failing = new Readable({
          read() {
            this.push(Buffer.alloc(64 * 1024, 1));
            this.destroy(new Error('upstream broke'));
          },
        });
        await expect(storage.put(`${PREFIX}/broken.bin`, failing)).rejects.toThrow(/upstream broke/);
        expect(await storage.exists(`${PREFIX}/broken.bin`)).toBe(false);
        expect(await storage.list(PREFIX)).toEqual([]);
      });

      test('a failed replacement keeps the previous object', async () => {
        await storage.put(`${PREFIX}/keep.txt`, 'old');
        const failing = new Readable({
          read() {
            this.destroy(new Error('nope'));
          },
        });
        await expect(storage.put(`${PREFIX}/keep.txt`, failing)).rejects.toThrow(/nope/);
        expect((await storage.readBuffer(`${PREFIX}/keep.txt`)).toString()).toBe('old');
      });

      test('a missing local file is an error and stores nothing', async () => {
        await expect(storage.put(`${PREFIX}/ghost`, { file: path.join(scratch, 'absent') })).rejects.toThrow();
        expect(await storage.exists(`${PREFIX}/ghost`)).toBe(false);
      });
    });

    describe('absent objects', () => {
      test.each([
        ['get', (s: InternalStorage, u: string) => s.get(u)],
        ['readBuffer', (s: InternalStorage, u: string) => s.readBuffer(u)],
        ['size', (s: InternalStorage, u: string) => s.size(u)],
      ] as const)('%s → NOT_FOUND naming the URI', async (_, call) => {
        const error = await refusal(call(storage, `${PREFIX}/missing.txt`));
        expect(error.code).toBe('NOT_FOUND');
        expect(error.message).toContain(`${PREFIX}/missing.txt`);
      });

      test('a "directory" is not an object', async () => {
        await storage.put(`${PREFIX}/dir/file.txt`, 'x');
        expect(await storage.exists(`${PREFIX}/dir`)).toBe(false);
        expect((await refusal(storage.readBuffer(`${PREFIX}/dir`))).code).toBe('NOT_FOUND');
        expect((await refusal(storage.get(`${PREFIX}/dir`))).code).toBe('NOT_FOUND');
        expect(await storage.delete(`${PREFIX}/dir`)).toBe(false);
        expect(await storage.exists(`${PREFIX}/dir/file.txt`)).toBe(true);
      });
    });

    describe('exists, size, delete', () => {
      test('exists and size follow the object', async () => {
        expect(await storage.exists(`${PREFIX}/a.bin`)).toBe(false);
        await storage.put(`${PREFIX}/a.bin`, Buffer.alloc(1234, 7));
        expect(await storage.exists(`${PREFIX}/a.bin`)).toBe(true);
        expect(await storage.size(`${PREFIX}/a.bin`)).toBe(1234);
      });

      test('delete says whether something was deleted', async () => {
        await storage.put(`${PREFIX}/a.bin`, 'a');
        await storage.put(`${PREFIX}/b.bin`, 'b');
        expect(await storage.delete(`${PREFIX}/a.bin`)).toBe(true);
        expect(await storage.delete(`${PREFIX}/a.bin`)).toBe(false);
        expect(await storage.exists(`${PREFIX}/a.bin`)).toBe(false);
        expect(await storage.exists(`${PREFIX}/b.bin`)).toBe(true);
      });
    });

    describe('list and deletePrefix', () => {
      beforeEach(async () => {
        await storage.put(`${PREFIX}/tasks/t1/run1/out.csv`, '1');
        await storage.put(`${PREFIX}/tasks/t1/run1/nested/deep.txt`, '2');
        await storage.put(`${PREFIX}/tasks/t2/run2/out.csv`, '3');
        await storage.put(`${PREFIX}/inputs/file/data.upl`, '4');
        await storage.put('kestra:///company/team/flow/executions/exec10/x.txt', '5');
        await storage.put('kestra:///company/team/flow/executions/exec1.txt', '6');
      });

      test('list returns every object below the prefix, sorted', async () => {
        expect(await storage.list(PREFIX)).toEqual([
          `${PREFIX}/inputs/file/data.upl`,
          `${PREFIX}/tasks/t1/run1/nested/deep.txt`,
          `${PREFIX}/tasks/t1/run1/out.csv`,
          `${PREFIX}/tasks/t2/run2/out.csv`,
        ]);
        expect(await storage.list(`${PREFIX}/tasks/t1/`)).toEqual([
          `${PREFIX}/tasks/t1/run1/nested/deep.txt`,
          `${PREFIX}/tasks/t1/run1/out.csv`,
        ]);
      });

      test('a prefix matches whole segments only', async () => {
        expect(await storage.list(`${PREFIX}/tasks/t`)).toEqual([]);
        expect(await storage.list('kestra:///company/team/flow/executions/exec1')).not.toContain(
          'kestra:///company/team/flow/executions/exec10/x.txt',
        );
      });

      test('listing an object or nothing', async () => {
        expect(await storage.list(`${PREFIX}/tasks/t2/run2/out.csv`)).toEqual([`${PREFIX}/tasks/t2/run2/out.csv`]);
        expect(await storage.list('kestra:///nobody/here')).toEqual([]);
      });

      test('the whole store', async () => {
        expect(await storage.list('kestra:///')).toHaveLength(6);
      });

      test('deletePrefix removes the subtree and reports what it removed', async () => {
        const deleted = await storage.deletePrefix(`${PREFIX}/tasks`);
        expect(deleted.sort()).toEqual([
          `${PREFIX}/tasks/t1/run1/nested/deep.txt`,
          `${PREFIX}/tasks/t1/run1/out.csv`,
          `${PREFIX}/tasks/t2/run2/out.csv`,
        ]);
        expect(await storage.list(PREFIX)).toEqual([`${PREFIX}/inputs/file/data.upl`]);
        expect(await storage.exists('kestra:///company/team/flow/executions/exec10/x.txt')).toBe(true);
        expect(await storage.exists('kestra:///company/team/flow/executions/exec1.txt')).toBe(true);
      });

      test('deletePrefix of a whole execution leaves its neighbours', async () => {
        expect(await storage.deletePrefix(PREFIX)).toHaveLength(4);
        expect(await storage.list(PREFIX)).toEqual([]);
        expect(await storage.list('kestra:///company/team/flow')).toEqual([
          'kestra:///company/team/flow/executions/exec1.txt',
          'kestra:///company/team/flow/executions/exec10/x.txt',
        ]);
      });

      test('deletePrefix of nothing, or of one object', async () => {
        expect(await storage.deletePrefix('kestra:///nobody/here')).toEqual([]);
        expect(await storage.deletePrefix(`${PREFIX}/inputs/file/data.upl`)).toEqual([`${PREFIX}/inputs/file/data.upl`]);
        expect(await storage.exists(`${PREFIX}/inputs/file/data.upl`)).toBe(false);
      });

      test('objects can be written again under a deleted prefix', async () => {
        await storage.deletePrefix(PREFIX);
        await storage.put(`${PREFIX}/tasks/t1/run1/out.csv`, 'again');
        expect((await storage.readBuffer(`${PREFIX}/tasks/t1/run1/out.csv`)).toString()).toBe('again');
      });
    });

    test('50 MB stream in and out, chunk by chunk', async () => {
      const total = 50 * 1024 * 1024;
      const source = generatedStream(total, 64 * 1024);
      const uri = await storage.put(`${PREFIX}/big.bin`, source.stream);
      expect(await storage.size(uri)).toBe(total);

      const out = await storage.get(uri);
      const hash = createHash('sha256');
      let received = 0;
      let largestChunk = 0;
      for await (const chunk of out) {
        const buffer = chunk as Buffer;
        received += buffer.length;
        largestChunk = Math.max(largestChunk, buffer.length);
        hash.update(buffer);
      }
      expect(received).toBe(total);
      expect(hash.digest('hex')).toBe(source.sha256());
      // A backend that read the whole object into memory would hand it over in one piece.
      expect(largestChunk).toBeLessThanOrEqual(8 * 1024 * 1024);
    });

    describe('refuses to leave the store', () => {
      const calls = {
        put: (s: InternalStorage, u: string) => s.put(u, 'x'),
        get: (s: InternalStorage, u: string) => s.get(u),
        readBuffer: (s: InternalStorage, u: string) => s.readBuffer(u),
        exists: (s: InternalStorage, u: string) => s.exists(u),
        size: (s: InternalStorage, u: string) => s.size(u),
        delete: (s: InternalStorage, u: string) => s.delete(u),
        deletePrefix: (s: InternalStorage, u: string) => s.deletePrefix(u),
        list: (s: InternalStorage, u: string) => s.list(u),
      };
      const cases = Object.entries(calls).flatMap(([method, call]) =>
        HOSTILE_URIS.map(([uri, code]) => [method, uri, code, call] as const),
      );

      test.each(cases)('%s(%j) → %s', async (_method, uri, code, call) => {
        const error = await refusal(Promise.resolve().then((): Promise<unknown> => call(storage, uri)));
        expect(error.code).toBe(code);
        expect(error.message).toContain(JSON.stringify(uri).slice(1, -1));
      });

      test('writing to the root itself is refused', async () => {
        expect((await refusal(storage.put('kestra:///', 'x'))).code).toBe('INVALID_URI');
      });
    });
  });
}
