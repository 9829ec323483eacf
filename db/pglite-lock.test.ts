/**
 * Issue #12: the lock of an embedded data directory (`<dataDir>/pglite.lock`) names the process holding
 * it. After a crash that pid may be reused by another process (in a container the same few pids come
 * back at every restart): a lock naming a pid that is now another process's must not block the start,
 * while a lock whose process still runs must keep refusing. Linux (/proc), real processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { openPglite } from './pglite.ts';
import type { Database } from './types.ts';

const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const startTicks = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
};

describe('the data-directory lock', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  const open: Database[] = [];

  /** Another live process, which has nothing to do with Baton: what a reused pid belongs to. */
  const foreignProcess = () => {
    const child = spawn('sleep', ['120'], { stdio: 'ignore' });
    children.push(child);
    return child.pid!;
  };
  const openHere = async (dataDir: string) => {
    const database = await openPglite(dataDir);
    open.push(database);
    return database;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-pglite-lock-'));
  });
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
    while (children.length) children.pop()!.kill('SIGKILL');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a lock written by an older Baton (pid only) whose pid now belongs to a process started after it is stale', async () => {
    const dataDir = join(dir, 'legacy-reused');
    await (await openPglite(dataDir)).close();
    const lock = join(dataDir, 'pglite.lock');
    const pid = foreignProcess();
    await writeFile(lock, String(pid));
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(lock, anHourAgo, anHourAgo); // written long before that process started
    await openHere(dataDir);
    expect((await readFile(lock, 'utf8')).split('\n')[0]).toBe(String(process.pid));
  });

  test('a lock naming a pid that is now another process (another start time, or another boot) is stale', async () => {
    const dataDir = join(dir, 'reused');
    await (await openPglite(dataDir)).close();
    const lock = join(dataDir, 'pglite.lock');
    const pid = foreignProcess();
    await writeFile(lock, `${pid}\n${bootId()} ${Number(startTicks(pid)) - 1}\n`);
    await openHere(dataDir);
    await open.pop()!.close();
    await writeFile(lock, `${pid}\n00000000-0000-0000-0000-000000000000 ${startTicks(pid)}\n`);
    await openHere(dataDir);
  });

  test('a lock whose process still runs keeps refusing: same pid and start time, or an older lock written after it started', async () => {
    const dataDir = join(dir, 'held');
    await (await openPglite(dataDir)).close();
    const lock = join(dataDir, 'pglite.lock');
    const pid = foreignProcess();
    await writeFile(lock, `${pid}\n${bootId()} ${startTicks(pid)}\n`);
    await expect(openPglite(dataDir)).rejects.toThrow(`already open in process ${pid}`);
    await writeFile(lock, String(pid));
    await expect(openPglite(dataDir)).rejects.toThrow(`already open in process ${pid}`);
  });

  test('another Baton process holding the directory is refused; once it is killed, the directory opens', async () => {
    const dataDir = join(dir, 'two-processes');
    const holder = spawn(process.execPath, [
      '--import', 'tsx', '--input-type=module', '-e',
      `const { openPglite } = await import(${JSON.stringify(join(import.meta.dirname, 'pglite.ts'))});` +
        `await openPglite(${JSON.stringify(dataDir)}); console.log('open'); setInterval(() => {}, 1000);`,
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(holder);
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('open') && resolve());
      holder.on('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
    });
    const lock = (await readFile(join(dataDir, 'pglite.lock'), 'utf8')).split('\n');
    expect(lock.slice(0, 2)).toEqual([String(holder.pid), `${bootId()} ${startTicks(holder.pid!)}`]);
    await expect(openPglite(dataDir)).rejects.toThrow(`already open in process ${holder.pid}`);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    await openHere(dataDir);
  }, 60_000);
});
