/**
 * Issue #12, finding 5, the way around the task user: Baton (root) uploads a task's output files, so a
 * process the task left running (`setsid` leaves its process group) could swap a listed file, or a
 * directory on its path, for a link to one of Baton's files between the listing and the upload. The
 * swap happens here at the one moment that matters, inside the upload of the file before, with real
 * files and links; the swapped file must not be uploaded.
 */
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uploadOutputDirectory, uploadOutputFiles } from '../../engine/scripts/output-files.ts';
import { createTempDirTaskContext, type TempDirTaskContext } from '../../engine/scripts/temp-dir-task-context.ts';

describe('output files: a file swapped for a link after it was listed is not uploaded', () => {
  let t: TempDirTaskContext<unknown>;
  let outside: string;
  let workingDir: string;

  beforeEach(async () => {
    t = await createTempDirTaskContext({});
    workingDir = await t.ctx.workingDirectory();
    outside = await mkdtemp(join(tmpdir(), 'baton-outside-'));
    await writeFile(join(outside, 'baton.env'), 'BATON_API_TOKEN=stolen-through-an-output-file\n');
  });
  afterEach(async () => {
    await t.cleanup();
    await rm(outside, { recursive: true, force: true });
  });

  /** Swaps `victim` once, while the file listed before it is being stored. */
  const swapDuringFirstUpload = (swap: () => Promise<void>) => {
    const putFile = t.ctx.storage.putFile.bind(t.ctx.storage);
    let swapped = false;
    t.ctx.storage.putFile = async (name, data) => {
      const uri = await putFile(name, data);
      if (!swapped) {
        swapped = true;
        await swap();
      }
      return uri;
    };
  };

  const uploadedTexts = async (uris: Record<string, string>) =>
    Promise.all(Object.values(uris).map(async (uri) => (await t.ctx.storage.read(uri)).toString('utf8')));

  it('a file replaced by a symbolic link to a host file', async () => {
    await writeFile(join(workingDir, 'a.txt'), 'first');
    await writeFile(join(workingDir, 'b.txt'), 'second');
    swapDuringFirstUpload(async () => {
      await rm(join(workingDir, 'b.txt'));
      await symlink(join(outside, 'baton.env'), join(workingDir, 'b.txt'));
    });
    const uploaded = await uploadOutputFiles(t.ctx, workingDir, ['*.txt']);
    expect(Object.keys(uploaded)).toEqual(['a.txt']);
    expect((await uploadedTexts(uploaded)).join()).not.toContain('stolen');
  });

  it('a directory on the path replaced by a link to a host directory', async () => {
    const out = join(workingDir, 'out');
    await mkdir(join(out, 'sub'), { recursive: true });
    await writeFile(join(out, 'a.txt'), 'first');
    await writeFile(join(out, 'sub', 'baton.env'), 'harmless');
    swapDuringFirstUpload(async () => {
      await rename(join(out, 'sub'), join(out, 'sub-moved'));
      await symlink(outside, join(out, 'sub'));
    });
    const uploaded = await uploadOutputDirectory(t.ctx, out);
    expect(Object.keys(uploaded)).toEqual(['a.txt']);
    expect((await uploadedTexts(uploaded)).join()).not.toContain('stolen');
  });
});
