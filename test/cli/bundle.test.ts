/**
 * bin/baton.mjs runs a bundle of the sources (bin/bundle.mjs): built when missing, rebuilt when a source
 * changed (never stale code), safe when several processes start at once, and the bundled code finds
 * the files next to its sources (migrations, views). Run in a copy of the checkout, so rebuilding
 * there never disturbs the bundle the other suites' processes run.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const COPIED = ['bin', 'cli', 'db', 'engine', 'server', 'sync', 'migrations', 'views', 'flows', 'package.json', 'package-lock.json'];

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
    }
    await symlink(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  });
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
    await writeFile(flow, 'id: hello\nnamespace: t\ntasks:\n  - id: say\n    type: io.kestra.plugin.core.log.Log\n    message: hi from the bundle\n');
    const ran = await baton(['run', flow]);
    expect(ran.stdout).toContain('hi from the bundle');
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

  it('a checkout whose bundle cannot be rebuilt (read-only for its user) runs the sources instead, saying why', async () => {
    const main = join(checkout, 'cli', 'main.ts');
    const source = await readFile(main, 'utf8');
    await writeFile(main, source.replace('(edited)', '(read-only)'));
    // Another user than root (whom permissions do not stop): the checkout is readable, not writable.
    await chmod(checkout, 0o755);
    const env = { ...process.env, BATON_DATA_DIR: join(tmpdir(), 'baton-bundle-nobody') };
    const asNobody = process.getuid?.() === 0
      ? run('runuser', ['-u', 'nobody', '--', process.execPath, join(checkout, 'bin', 'baton.mjs'), '--help'], { cwd: tmpdir(), env, timeout: 60_000 })
      : run(process.execPath, [join(checkout, 'bin', 'baton.mjs'), '--help'], { cwd: tmpdir(), env, timeout: 60_000 });
    if (process.getuid?.() !== 0) await chmod(checkout, 0o555);
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
