import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { extractTemplate, openPglite } from './pglite.ts';

/** A ustar archive of `entries` (a name ending in '/' is a directory). */
function tarOf(entries: Record<string, string>): Uint8Array {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(entries)) {
    const header = Buffer.alloc(512);
    const directory = name.endsWith('/');
    header.write(name.replace(/\/$/, ''), 0, 'utf8');
    header.write('0000644\0', 100);
    header.write(`${Buffer.byteLength(content).toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write(directory ? '5' : '0', 156);
    header.write('ustar\0' + '00', 257);
    blocks.push(header);
    if (!directory) {
      const data = Buffer.from(content);
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

describe('extractTemplate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-pglite-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('writes directories and files, leading slashes taken as relative', async () => {
    const pgdata = join(dir, 'ok');
    await extractTemplate(tarOf({ '/base/': '', '/base/1/2600': 'page', '/PG_VERSION': '18\n', '/pg_wal/0001': 'wal' }), pgdata);
    expect(await readFile(join(pgdata, 'base', '1', '2600'), 'utf8')).toBe('page');
    expect(await readFile(join(pgdata, 'pg_wal', '0001'), 'utf8')).toBe('wal');
    expect(await readFile(join(pgdata, 'PG_VERSION'), 'utf8')).toBe('18\n');
  });

  test('refuses entries that leave the data directory, and archives without PG_VERSION', async () => {
    await expect(extractTemplate(tarOf({ '../escape': 'x', PG_VERSION: '18' }), join(dir, 'escape'))).rejects.toThrow(/unsafe entry/);
    expect(existsSync(join(dir, 'escape'))).toBe(false);
    await expect(extractTemplate(tarOf({ 'base/x': 'x' }), join(dir, 'empty'))).rejects.toThrow(/no PG_VERSION/);
  });

  test('reads a tarball file in pieces, and refuses one cut short naming the file it ends in', async () => {
    const wal = 'w'.repeat(600 * 1024); // over one read's size: copied in pieces
    const tarball = tarOf({ PG_VERSION: '18\n', 'base/': '', 'pg_wal/0001': wal });
    const file = join(dir, 'template.tar');
    await writeFile(file, tarball);
    await extractTemplate({ file }, join(dir, 'from-file'));
    expect(await readFile(join(dir, 'from-file', 'pg_wal', '0001'), 'utf8')).toBe(wal);
    await writeFile(file, tarball.subarray(0, 512 * 4 + 300 * 1024)); // ends inside pg_wal/0001's bytes
    await expect(extractTemplate({ file }, join(dir, 'cut-file'))).rejects.toThrow(/truncated in 'pg_wal\/0001'/);
    expect(existsSync(join(dir, 'cut-file', 'PG_VERSION'))).toBe(false); // never marked a database
    await writeFile(file, tarball.subarray(0, 1024 + 100)); // ends inside the second header
    await expect(extractTemplate({ file }, join(dir, 'cut-header'))).rejects.toThrow(/truncated at byte 1124/);
  });

  test('a data directory whose extraction was cut short (no PG_VERSION) is extracted again and opens', async () => {
    const dataDir = join(dir, 'cut');
    await (await openPglite(dataDir)).close();
    await unlink(join(dataDir, 'pglite', 'PG_VERSION'));
    const database = await openPglite(dataDir);
    try {
      const rows = await database.db.execute(sql`select current_setting('shared_buffers') as shared_buffers`);
      expect((rows as unknown as { rows: Array<{ shared_buffers: string }> }).rows[0].shared_buffers).toBe('8MB');
    } finally {
      await database.close();
    }
  });
});
