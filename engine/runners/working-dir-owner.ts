/**
 * Handing a task's working directory to the task user, and saying why it cannot reach it.
 *
 * Baton (root) writes the working directory — input files, the script file, namespace files, the
 * output directory — and the command, running as the task user, must be able to write there. So what
 * Baton wrote becomes the task user's before the command starts.
 *
 * Done as root in directories other tasks (same task user, other executions) may write to, so the
 * walk must not be turned against the host: directories are opened without following symbolic links
 * and their entries reached through /proc/self/fd/N (a directory swapped for a link mid-walk leads
 * nowhere); a file is changed only through its own descriptor, after checking it is a regular file
 * Baton owns with a single link (a hard link to a file elsewhere is never given away); directories
 * the task user already owns are not entered.
 */
import { constants } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { TaskUser } from './task-user.ts';

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** O_NONBLOCK: a FIFO put in place of a file must not block the walk. */
const ENTRY_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Gives `dir` and every entry in it that Baton (`owner`, its uid) owns to the task user. */
export async function handOverWorkingDir(dir: string, user: Pick<TaskUser, 'uid' | 'gid'>, owner: number): Promise<void> {
  const handle = await open(dir, DIRECTORY_FLAGS);
  try {
    const stats = await handle.stat();
    // A directory the task user owns already (a WorkingDirectory's second task): only Baton's new files in it.
    await handOverEntries(handle, user, owner);
    if (stats.uid === owner) await handle.chown(user.uid, user.gid);
  } finally {
    await handle.close();
  }
}

async function handOverEntries(directory: FileHandle, user: Pick<TaskUser, 'uid' | 'gid'>, owner: number): Promise<void> {
  const base = `/proc/self/fd/${directory.fd}`;
  for (const name of await readdir(base)) {
    let entry: FileHandle;
    try {
      entry = await open(`${base}/${name}`, ENTRY_FLAGS);
    } catch {
      // A symbolic link (ELOOP), a socket, or gone meanwhile: nothing of Baton's to give.
      continue;
    }
    try {
      const stats = await entry.stat();
      if (stats.uid !== owner) continue;
      if (stats.isDirectory()) {
        // Its entries first: until it is handed over, nobody but Baton can change what is in it.
        await handOverEntries(entry, user, owner);
        await entry.chown(user.uid, user.gid);
      } else if (stats.isFile() && stats.nlink === 1) {
        await entry.chown(user.uid, user.gid);
      }
    } finally {
      await entry.close();
    }
  }
}

/**
 * Why the task user cannot enter `dir`: the first directory on its path it may not search, with owner
 * and mode; undefined when none is found (the cause is elsewhere).
 */
export async function unreachableBy(dir: string, user: Pick<TaskUser, 'uid' | 'gid'>): Promise<string | undefined> {
  const chain: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    chain.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const path of chain) {
    const stats = await stat(path).catch(() => undefined);
    if (!stats) return `'${path}' does not exist`;
    const bit = stats.uid === user.uid ? 0o100 : stats.gid === user.gid ? 0o010 : 0o001;
    if ((stats.mode & bit) === 0) {
      return `'${path}' (owner uid ${stats.uid}, mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}) is not searchable by it`;
    }
  }
  return undefined;
}
