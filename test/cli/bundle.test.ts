/**
 * bin/baton.mjs runs a bundle of the sources (bin/bundle.mjs): built when missing, rebuilt when a source
 * changed (never stale code), safe when several processes start at once, and the bundled code finds
 * the files next to its sources (migrations, views). Run in a copy of the checkout, so rebuilding
 * there never disturbs the bundle the other suites' processes run. The copy is self-contained (its
 * own node_modules, readable by all) because one test runs it as another user, who may not be able to
 * enter the folder the checkout was cloned in (/root, any mode-700 folder).
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const COPIED = ['bin', 'cli', 'config', 'db', 'engine', 'server', 'sync', 'migrations', 'views', 'flows', 'package.json', 'package-lock.json'];
const AS_ROOT = process.getuid?.() === 0;

/**
 * The copy's node_modules. Run as root, the read-only test runs the copy as `nobody`, so it gets a tree
 * of hard links to the checkout's modules (instant, no space; a real copy across file systems) that
 * `nobody` reaches through the world-readable temp folder; otherwise a link to them is enough.
 */
async function provideModules(checkout: string): Promise<void> {
  const modules = await realpath(join(ROOT, 'node_modules'));
  const target = join(checkout, 'node_modules');
  if (!AS_ROOT) {
    await symlink(modules, target, 'dir');
    return;
  }
  try {
    await run('cp', ['-al', modules, target]);
  } catch {
    await rm(target, { recursive: true, force: true });
    await run('cp', ['-a', modules, target]);
  }
}

describe('the bundle bin/baton.mjs runs', () => {
  let checkout: string;
  const baton = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [join(checkout, 'bin', 'baton.mjs'), ...args], {
      cwd: checkout,
      env: { ...process.env, BATON_DATA_DIR: join(checkout, '.baton'), ...env },
      timeout: 60_000,
    });

  beforeAll(async () => {
    checkout = await mkdtemp(join(tmpdir(), 'baton-bundle-'));
    for (const entry of COPIED) {
      await cp(join(ROOT, entry), join(checkout, entry), {
        recursive: true,
        filter: (source) => !/\.(test|case)\.ts$/.test(source),
      });
      // A clone made under a restrictive umask has files only its owner may read.
      if (AS_ROOT) await run('chmod', ['-R', 'a+rX', join(checkout, entry)]);
    }
    await provideModules(checkout);
  }, 120_000);
  afterAll(async () => {
    if (checkout) await rm(checkout, { recursive: true, force: true });
  });

  it('is built on first use, and the bundled code finds its migrations (views: test/cli/sync-server)', async () => {
    const { stderr } = await baton(['validate', 'flows']);
    expect(stderr).toMatch(/flow files: all valid/);
    const fingerprint = (await readFile(join(checkout, 'dist', 'fingerprint'), 'utf8')).trim();
    expect(fingerprint).toMatch(/^[0-9a-f]{24}$/);
    // `baton run` opens the embedded database: its migrations are read from migrations/ next to db/.
    const flow = join(checkout, 'hello.yaml');
    // The date filter's lazily loaded chunk (@js-joda with its time-zone database) loads from the bundle too.
    const message = `"hi from the bundle at {{ '2019-07-01T10:00:00+02:00' | date('HH:mm xxx VV', timeZone='America/New_York') }}"`;
    await writeFile(flow, `id: hello\nnamespace: t\ntasks:\n  - id: say\n    type: io.kestra.plugin.core.log.Log\n    message: ${message}\n`);
    const ran = await baton(['run', flow]);
    expect(ran.stdout).toContain('hi from the bundle at 04:00 -04:00 America/New_York');
  });

  it('is rebuilt when a source changes, also when several processes start at once', async () => {
    const main = join(checkout, 'cli', 'main.ts');
    const source = await readFile(main, 'utf8');
    await writeFile(main, source.replace('usage: baton <command> [options]', 'usage: baton <command> [options] (edited)'));
    const outputs = await Promise.all(Array.from({ length: 4 }, () => baton(['--help'])));
    for (const { stdout } of outputs) expect(stdout).toContain('(edited)');
    const again = await baton(['--help']);
    expect(again.stdout).toContain('(edited)');
  });

  it('is rebuilt when a shared module changes (config/, imported by every role)', async () => {
    const before = await readFile(join(checkout, 'dist', 'fingerprint'), 'utf8');
    const limits = join(checkout, 'config', 'limits.ts');
    await writeFile(limits, `${await readFile(limits, 'utf8')}\n// edited\n`);
    await baton(['--help']);
    expect(await readFile(join(checkout, 'dist', 'fingerprint'), 'utf8')).not.toBe(before);
  });

  it('a checkout whose bundle cannot be rebuilt (read-only for its user) runs the sources instead, saying why', async () => {
    const main = join(checkout, 'cli', 'main.ts');
    const source = await readFile(main, 'utf8');
    await writeFile(main, source.replace('(edited)', '(read-only)'));
    // Another user than root (whom permissions do not stop): the checkout is readable, not writable.
    await chmod(checkout, 0o755);
    const env = { ...process.env, BATON_DATA_DIR: join(tmpdir(), 'baton-bundle-nobody') };
    const asNobody = AS_ROOT
      ? run('runuser', ['-u', 'nobody', '--', process.execPath, join(checkout, 'bin', 'baton.mjs'), '--help'], { cwd: tmpdir(), env, timeout: 60_000 })
      : run(process.execPath, [join(checkout, 'bin', 'baton.mjs'), '--help'], { cwd: tmpdir(), env, timeout: 60_000 });
    if (!AS_ROOT) await chmod(checkout, 0o555);
    try {
      const { stdout, stderr } = await asNobody;
      expect(stdout).toContain('(read-only)');
      expect(stderr).toMatch(/baton: cannot write the bundle \(.*\); running the sources through tsx/);
    } finally {
      await chmod(checkout, 0o755);
    }
  });

  it('BATON_NO_BUNDLE=1 runs the TypeScript sources instead', async () => {
    const main = join(checkout, 'cli', 'main.ts');
    const source = await readFile(main, 'utf8');
    await writeFile(main, source.replace('(read-only)', '(from sources)'));
    const before = await readFile(join(checkout, 'dist', 'fingerprint'), 'utf8');
    const { stdout } = await baton(['--help'], { BATON_NO_BUNDLE: '1' });
    expect(stdout).toContain('(from sources)');
    expect(await readFile(join(checkout, 'dist', 'fingerprint'), 'utf8')).toBe(before); // not rebuilt
  });
});
