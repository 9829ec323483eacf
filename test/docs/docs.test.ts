/**
 * The docs say what the code does: generated tables match their generators, every BATON_* variable the
 * code reads is documented (and every documented one is still read), the CLI table names the commands
 * `baton --help` lists, the README's tour flow is valid and its calls are routes, and relative links
 * lead to files and headings that exist.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';
import { openApiDocument } from '../../server/routes/openapi.ts';
import { currentText, GENERATED_SECTIONS, REPO_ROOT } from './generated-sections.ts';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** Markdown pages whose links are checked. */
function markdownPages(): string[] {
  const docs = readdirSync(join(REPO_ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
  return ['README.md', 'bench/README.md', ...docs];
}

/** Runs the `baton` CLI in this process and returns its exit code and what it printed on stdout. */
async function baton(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  try {
    return { code: await main(argv), stdout };
  } finally {
    write.mockRestore();
  }
}

describe('generated sections', () => {
  it.each(GENERATED_SECTIONS.map((s) => [s.file, s] as const))('%s matches its generator', (file, section) => {
    expect(currentText(read(file), section), `${file} is stale: run npx tsx test/docs/generated-sections.ts`).toBe(section.render().trim());
  });

  it('the task table lists the plugins people asked about, with their older names', () => {
    const table = currentText(read('docs/tasks.md'), GENERATED_SECTIONS[0]);
    for (const type of ['io.kestra.plugin.jdbc.duckdb.Query', 'io.kestra.plugin.git.Clone', 'io.kestra.plugin.dbt.cli.DbtCLI',
      'io.kestra.plugin.notifications.slack.SlackIncomingWebhook', 'io.kestra.plugin.core.trigger.Schedule', 'io.kestra.plugin.core.condition.DayWeek']) {
      expect(table).toContain(`| \`${type}\` |`);
    }
    expect(table).toMatch(/\| `io\.kestra\.plugin\.core\.log\.Log` \| [^|]+ \| `io\.kestra\.core\.tasks\.log\.Log` \|/);
  });
});

/**
 * Where Baton's variables are read: the source folders, plus what the compose file, CI, the test
 * support and the benchmarks read (they are documented too, in their own section).
 */
const SOURCE_FOLDERS = ['server', 'sync', 'engine', 'db', 'cli', 'config', 'bin', 'bench', 'deploy', 'test/support', 'test/images'];
const SOURCE_FILES = ['docker-compose.yml', 'Dockerfile', '.ci/run'];
const SOURCE_EXTENSIONS = /\.(ts|mjs|js|sh|ya?ml)$/;

/** Names in the code that are not configuration, and why. */
const NOT_CONFIGURATION: Record<string, string> = {
  BATON_CONTRACT_PRIVATE: 'set by the runner contract suite to prove Baton\'s own variables never reach a command',
  BATON_LIMIT_X: 'a placeholder in a doc comment of config/limits.ts',
  BATON_BIN: 'a constant of bench/scale.bench.ts (the path of bin/baton.mjs), not an environment variable',
};
/** Variables tests set on the fly for one case. */
const TEST_ONLY = /^BATON_TEST_(?!DATABASE_URL$)/;

function sourceFiles(): string[] {
  const files = SOURCE_FILES.filter((file) => existsSync(join(REPO_ROOT, file)));
  for (const folder of SOURCE_FOLDERS) {
    for (const entry of readdirSync(join(REPO_ROOT, folder), { recursive: true, withFileTypes: true })) {
      const path = relative(REPO_ROOT, join(entry.parentPath, entry.name));
      if (entry.isFile() && SOURCE_EXTENSIONS.test(entry.name) && !path.includes('node_modules')) files.push(path);
    }
  }
  return files;
}

/** Every BATON_* name in `text`: whole names only (not SECRET_BATON_…), not prefixes such as `BATON_GIT_`. */
function batonNames(text: string): Set<string> {
  return new Set([...text.matchAll(/\bBATON_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0]));
}

describe('docs/configuration.md', () => {
  const page = read('docs/configuration.md');
  const security = read('docs/security.md');
  const documented = new Set([...page.matchAll(/`(BATON_[A-Z0-9_]+|DATABASE_URL|PORT)`/g)].map((m) => m[1]));
  const readIn = new Map<string, string>();
  for (const file of sourceFiles()) for (const name of batonNames(read(file))) if (!readIn.has(name)) readIn.set(name, file);

  it('names every BATON_* variable the code reads (BATON_LIMIT_* in the generated table of docs/security.md)', () => {
    expect(readIn.size).toBeGreaterThan(40);
    const missing = [...readIn]
      .filter(([name]) => !(name in NOT_CONFIGURATION) && !TEST_ONLY.test(name))
      .filter(([name]) => (name.startsWith('BATON_LIMIT_') ? !security.includes(`\`${name}\``) : !documented.has(name)))
      .map(([name, file]) => `${name} (read in ${file})`);
    expect(missing, 'document these in docs/configuration.md').toEqual([]);
    expect(page).toContain('](security.md#limits)');
  });

  it('names DATABASE_URL and PORT', () => {
    expect(documented).toContain('DATABASE_URL');
    expect(documented).toContain('PORT');
  });

  it('documents no variable the code no longer reads', () => {
    const stale = [...batonNames(page)].filter((name) => !readIn.has(name));
    expect(stale, 'remove these from docs/configuration.md, or say where they are read').toEqual([]);
  });
});

describe('docs/cli.md', () => {
  it('has one row per command of `baton --help`', async () => {
    const { code, stdout } = await baton(['--help']);
    expect(code).toBe(0);
    const listed = [...stdout.split('commands:')[1].matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
    expect(listed.length).toBeGreaterThanOrEqual(7);
    const rows = [...read('docs/cli.md').matchAll(/^\| `baton (\S+?)[ `]/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual(listed.sort());
  });
});

describe('the README tour', () => {
  const readme = read('README.md');
  const flow = /cat > flows\/hello\.yaml <<'EOF'\n([\s\S]*?)\nEOF\n/.exec(readme)?.[1];
  const dir = mkdtempSync(join(tmpdir(), 'baton-docs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pushes a valid flow', async () => {
    expect(flow, 'the tour writes flows/hello.yaml with a heredoc').toBeDefined();
    writeFileSync(join(dir, 'hello.yaml'), `${flow}\n`);
    const { code, stdout } = await baton(['validate', join(dir, 'hello.yaml'), '--format', 'json']);
    expect(JSON.parse(stdout)).toEqual([]);
    expect(code).toBe(0);
  });

  it('says where the mistake it suggests is reported', async () => {
    const broken = flow!.replace('type: io.kestra.plugin.core.log.Log\n', 'type: io.kestra.plugin.core.log.Logg\n');
    expect(broken).not.toBe(flow);
    writeFileSync(join(dir, 'broken.yaml'), `${broken}\n`);
    const { code, stdout } = await baton(['validate', join(dir, 'broken.yaml'), '--format', 'json']);
    expect(code).toBe(1);
    const [problem] = JSON.parse(stdout) as { line: number; column: number; message: string }[];
    expect(readme).toContain(`line ${problem.line}, column ${problem.column}`);
    expect(problem.message).toContain("did you mean 'io.kestra.plugin.core.log.Log'?");
  });

  it('calls only routes of the API', () => {
    const routes = Object.keys(openApiDocument().paths as object).map((path) => new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?.*)?$`));
    const calls = [...readme.matchAll(/http:\/\/127\.0\.0\.1:8080(\/api\/[^\s`'"]+)/g)].map((m) => m[1]);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const call of calls) expect(routes.some((route) => route.test(call)), call).toBe(true);
  });
});

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, text] of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = text.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').toLowerCase().replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Markdown without fenced blocks and inline code, where brackets are not links. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

describe('relative links', () => {
  it.each(markdownPages())('%s: every relative link leads to a file and heading that exist', (page) => {
    const text = read(page);
    const broken: string[] = [];
    for (const [, target] of withoutCode(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z]+:/i.test(target)) continue; // http(s), mailto: not ours to check here
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path === '' ? join(REPO_ROOT, page) : resolve(REPO_ROOT, dirname(page), path);
      if (!file.startsWith(REPO_ROOT) || !existsSync(file)) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (anchor && statSync(file).isFile() && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${relative(REPO_ROOT, file)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('README links every page of docs/', () => {
    const readme = read('README.md');
    const unlinked = markdownPages().filter((p) => p.startsWith('docs/') && !readme.includes(`](${p})`));
    expect(unlinked).toEqual([]);
  });
});
