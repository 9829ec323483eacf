import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/index.ts';
import { chromiumService, launchBrowser, SCREENSHOTS } from '../support/browser.ts';
import { createRepo, startGitServer, type GitServer } from '../support/git-server.ts';

const ADMIN = { user: 'admin', password: 'executions-browser-password' };

const slowLogs = [
  'id: slow-logs',
  'namespace: baton.ui',
  'tasks:',
  '  - id: lines',
  '    type: io.kestra.plugin.scripts.shell.Commands',
  '    commands:',
  '      - for i in 1 2 3 4 5; do echo line $i; sleep 0.3; done',
  '      - printf "id,colour\\n1,green\\n" > colours.csv',
  '    outputFiles:',
  '      - "*.csv"',
  '',
].join('\n');

const manyLines = [
  'id: many-lines',
  'namespace: baton.ui',
  'tasks:',
  '  - id: burst',
  '    type: io.kestra.plugin.scripts.shell.Commands',
  '    commands:',
  '      - sleep 1',
  '      - seq 1 3000 | sed "s/^/row /"',
  '',
].join('\n');

const sleeper = [
  'id: sleeper',
  'namespace: baton.ui',
  'tasks:',
  '  - id: wait',
  '    type: io.kestra.plugin.scripts.shell.Commands',
  '    commands:',
  '      - echo going to sleep',
  '      - sleep 30',
  '  - id: never',
  '    type: io.kestra.plugin.core.log.Log',
  '    message: never logged',
  '',
].join('\n');

chromiumService.describe('execution pages in Chromium', () => {
  let gitServer: GitServer;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let executionId: string;
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const lineTexts = () => page.locator('#log-view .log-line .log-message').allTextContents();

  /** Starts a flow from its Execute tab (the flow pages' form) and lands on the new execution's page. */
  async function execute(flowId: string): Promise<string> {
    await page.goto(`${server.url}/ui/flows/baton.ui/${flowId}/execute`);
    await page.click('form.execute button[type=submit]');
    await page.waitForURL(/\/ui\/executions\/\w+$/);
    return new URL(page.url()).pathname.split('/').pop()!;
  }

  beforeAll(async () => {
    gitServer = await startGitServer();
    const repo = await createRepo(gitServer, 'browser-executions', { 'flows/slow-logs.yaml': slowLogs, 'flows/sleeper.yaml': sleeper, 'flows/many-lines.yaml': manyLines });
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-browser-executions-'));
    server = await startServer({
      dataDir,
      port: 0,
      quiet: true,
      env: { BATON_GIT_URL: repo.url, BATON_ADMIN_USER: ADMIN.user, BATON_ADMIN_PASSWORD: ADMIN.password, BATON_SYNC_POLL_SECONDS: '0' },
    });
    expect(server.initialSync!.result).toBe('APPLIED');
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    await page.goto(`${server.url}/ui/executions`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.fill('input[name=user]', ADMIN.user);
    await page.fill('input[name=password]', ADMIN.password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${server.url}/ui/executions`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await gitServer?.close();
  });

  it('streams log lines live and turns the badge SUCCESS without a reload', async () => {
    executionId = await execute('slow-logs');
    const loadedAt = page.url();
    // The script takes 1.5 s: the page opens before it is done, so lines must arrive afterwards.
    const atLoad = (await lineTexts()).filter((t) => /^line \d$/.test(t)).length;
    expect(atLoad).toBeLessThan(5);
    await page.waitForSelector('#log-view .log-line:has-text("line 5")', { timeout: 20_000 });
    await page.waitForSelector('#execution-run .status-line .badge[data-state="SUCCESS"]', { timeout: 20_000 });
    await page.waitForSelector('#log-view .log-status:has-text("Execution ended.")');
    expect(page.url()).toBe(loadedAt);
    const texts = (await lineTexts()).filter((t) => /^line \d$/.test(t));
    expect(texts).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    // Every stored line exactly once, in order.
    const stored = await (await page.request.get(`${server.url}/api/v1/logs/${executionId}`)).json();
    expect(await lineTexts()).toEqual(stored.map((l: { message: string }) => l.message));
    const ids = await page.locator('#log-view .log-line').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.id)));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // The live region stopped polling once terminal.
    expect(await page.getAttribute('#execution-run', 'hx-trigger')).toBeNull();
    await shot('execution');
  }, 60_000);

  it('filters the logs in place with the search box', async () => {
    await page.fill('#log-q', 'line 3');
    await page.press('#log-q', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#log-view .log-line').length === 1);
    expect(await lineTexts()).toEqual(['line 3']);
    await page.selectOption('#log-level', 'ERROR');
    await page.waitForSelector('#log-view .log-empty');
    await page.fill('#log-q', '');
    await page.selectOption('#log-level', '');
    await page.waitForSelector('#log-view .log-line:has-text("line 5")');
  }, 30_000);

  it('shows the Gantt chart with the task run and its attempt', async () => {
    await page.click('.page-nav a[href="#gantt"]');
    const segment = page.locator('#gantt .gantt-row[data-task="lines"] .gantt-seg[data-state="SUCCESS"]');
    await segment.waitFor();
    const box = await segment.boundingBox();
    const track = await page.locator('#gantt .gantt-row[data-task="lines"] .gantt-track').boundingBox();
    // The script ran for most of the execution: its bar spans most of the axis.
    expect(box!.width).toBeGreaterThan(track!.width * 0.5);
    expect(await page.textContent('#gantt .gantt-axis')).toContain('+1');
    await page.locator('#gantt').screenshot({ path: join(SCREENSHOTS, 'execution-gantt.png') });
  }, 30_000);

  it('previews an output file in place', async () => {
    await page.click('.page-nav a[href="#outputs"]');
    await page.click('#outputs a.file-preview');
    await page.waitForSelector('#outputs .preview pre.file-text');
    expect(await page.textContent('#outputs .preview pre.file-text')).toBe('id,colour\n1,green\n');
    expect(await page.getAttribute('#outputs a.file-download', 'href')).toMatch(new RegExp(`^/api/v1/executions/${executionId}/file\\?path=kestra`));
    await page.locator('#outputs').screenshot({ path: join(SCREENSHOTS, 'execution-outputs.png') });
  }, 30_000);

  it('lists the execution with its final state', async () => {
    await page.goto(`${server.url}/ui/executions`);
    const row = page.locator(`tr[data-execution="${executionId}"]`);
    await row.waitFor();
    expect(await row.locator('.badge').getAttribute('data-state')).toBe('SUCCESS');
    await page.selectOption('#f-state', 'FAILED');
    await page.waitForSelector('#execution-list >> text=No executions match');
    expect(new URL(page.url()).searchParams.get('state')).toBe('FAILED');
    await page.selectOption('#f-state', '');
    await page.waitForSelector(`tr[data-execution="${executionId}"]`);
    await shot('executions');
  }, 30_000);

  it('keeps at most 2000 live lines and pages older ones back in', async () => {
    const id = await execute('many-lines');
    await page.waitForSelector('#log-view .log-status:has-text("Execution ended.")', { timeout: 30_000 });
    const ids = () => page.locator('#log-view .log-line').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.id)));
    const kept = await ids();
    expect(kept).toHaveLength(2000);
    expect(await page.textContent('#log-view .log-line:last-child .log-message')).toBe('row 3000');
    const older = page.locator('#log-view a.log-older');
    expect(await older.count()).toBe(1);
    expect(await older.getAttribute('hx-get')).toBe(`/ui/executions/${id}/logs/older?beforeId=${kept[0]}`);
    expect(await older.getAttribute('href')).toBe(`/ui/executions/${id}?beforeId=${kept[0]}#logs`);
    await older.click();
    await page.waitForFunction(() => document.querySelectorAll('#log-view .log-line').length === 2500);
    const all = await ids();
    expect(all.slice(500)).toEqual(kept);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(await page.textContent('#log-view .log-lines:not(#log-tail) .log-line:last-child .log-message')).toBe(`row ${3000 - 2000}`);
  }, 60_000);

  it('kills a running execution from its page', async () => {
    const id = await execute('sleeper');
    await page.waitForSelector('#log-view .log-line:has-text("going to sleep")', { timeout: 20_000 });
    expect(await page.getAttribute('#execution-run', 'hx-trigger')).toBe('load delay:1s');
    await shot('execution-running');
    await page.click('#execution-run button.danger:has-text("Kill")');
    await page.waitForURL(`${server.url}/ui/executions/${id}`);
    await page.waitForSelector('#execution-run .status-line .badge[data-state="KILLED"]', { timeout: 20_000 });
    expect(await page.locator('#gantt .gantt-row[data-task="wait"] .gantt-seg').getAttribute('data-state')).toBe('KILLED');
    expect(await page.locator('#execution-run button:has-text("Restart")').count()).toBe(1);
    expect((await lineTexts()).some((t) => t === 'never logged')).toBe(false);
    await shot('execution-killed');
  }, 60_000);
});
