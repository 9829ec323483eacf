import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
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
