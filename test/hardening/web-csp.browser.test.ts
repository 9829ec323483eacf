/**
 * Issue #12, finding 8 (headers): the dashboard under its Content-Security-Policy in a real
 * Chromium — login through htmx, live tabs, the Execute form, an execution page following its logs
 * over server-sent events, filters, the KV page, "Sync now" — with no CSP violation reported, while
 * the policy is in force (an inline script or event handler is refused).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/index.ts';
import { chromiumService, launchBrowser, SCREENSHOTS } from '../support/browser.ts';
import { createRepo, startGitServer, type GitServer } from '../support/git-server.ts';

const ADMIN = { user: 'admin', password: 'csp-browser-password' };

const FLOW = [
  'id: csp-demo',
  'namespace: web.csp',
  'inputs:',
  '  - id: note',
  '    type: STRING',
  '    defaults: hello',
  'tasks:',
  '  - id: fan',
  '    type: io.kestra.plugin.core.flow.Parallel',
  '    tasks:',
  '      - id: lines',
  '        type: io.kestra.plugin.scripts.shell.Commands',
  '        commands:',
  '          - for i in 1 2 3 4; do echo "line $i {{ inputs.note }}"; sleep 0.3; done',
  '      - id: quick',
  '        type: io.kestra.plugin.core.log.Log',
  '        message: quick',
  '',
].join('\n');

chromiumService.describe('the dashboard under its CSP in Chromium', () => {
  let git: GitServer;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const violations: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `csp-${name}.png`), fullPage: true });

  beforeAll(async () => {
    git = await startGitServer();
    const repo = await createRepo(git, 'web-csp', { 'flows/demo.yaml': FLOW });
    server = await startServer({
      dataDir: await mkdtemp(join(tmpdir(), 'baton-web-csp-')),
      port: 0,
      quiet: true,
      env: { BATON_GIT_URL: repo.url, BATON_ADMIN_USER: ADMIN.user, BATON_ADMIN_PASSWORD: ADMIN.password, BATON_SYNC_POLL_SECONDS: '0' },
    });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // Every violation the page sees, reported or not, from the first script on.
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window as unknown as { __violations: string[] }).__violations ??= [];
        (window as unknown as { __violations: string[] }).__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
      });
    });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await git?.close();
  });

  /** Violations seen by the current document, plus those Chromium logged on any page so far. */
  const allViolations = async () => [...violations, ...((await page.evaluate(() => (window as unknown as { __violations?: string[] }).__violations ?? [])) as string[])];

  it('logs in through the htmx form and every page and tab works, with no violation', async () => {
    await page.goto(`${server.url}/ui/flows`);
    await page.waitForURL(/\/ui\/login/);
    const headers = (await page.request.get(`${server.url}/ui/login`)).headers();
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    await page.fill('input[name=user]', ADMIN.user);
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    // htmx swapped the form in place: its JavaScript runs under the policy.
    await page.waitForSelector('p.error[role=alert]');
    await page.fill('input[name=password]', ADMIN.password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${server.url}/ui/flows`);
    expect(await allViolations()).toEqual([]);

    await page.fill('#flow-search', 'csp');
    await page.waitForURL(/\?q=csp/);
    await page.click('a[href="/ui/flows/web.csp/csp-demo"]');
    await page.waitForSelector('pre.yaml');
    await page.click('nav.tabs a:has-text("Topology")');
    await page.waitForSelector('svg.topology');
    expect(new URL(page.url()).pathname).toBe('/ui/flows/web.csp/csp-demo/topology');
    expect(await allViolations()).toEqual([]);
  }, 60_000);

  it('runs the flow from the Execute form and follows its logs live on the execution page', async () => {
    await page.click('nav.tabs a:has-text("Execute")');
    await page.waitForSelector('form.execute');
    await page.fill('input[name=note]', 'under-csp');
    await page.click('form.execute button[type=submit]');
    await page.waitForURL(/\/ui\/executions\/\w+$/);
    // Lines arrive through the EventSource of views/static/execution.js, and the run region polls with htmx.
    await page.waitForSelector('#log-view .log-line .log-message:has-text("line 4 under-csp")', { timeout: 20_000 });
    await page.waitForSelector('#execution-run .badge.SUCCESS', { timeout: 20_000 });
    expect(await page.locator('.gantt-seg').count()).toBeGreaterThan(0);
    await shot('execution');
    expect(await allViolations()).toEqual([]);
  }, 60_000);

  it('filters the executions list, shows the KV page and syncs now, with no violation', async () => {
    await page.goto(`${server.url}/ui/executions`);
    await page.selectOption('select[name=state]', 'SUCCESS');
    await page.waitForURL(/state=SUCCESS/);
    expect(await page.locator('#execution-list tbody tr').count()).toBe(1);
    await page.goto(`${server.url}/ui/kv`);
    await page.waitForSelector('#kv-list');
    await page.goto(`${server.url}/ui/sync`);
    await page.click('#sync-status button[type=submit]');
    await page.waitForSelector('#sync-status .notice .badge');
    await shot('sync');
    expect(await allViolations()).toEqual([]);
  }, 60_000);

  it('is in force: an injected inline script and an inline event handler are refused (and reported)', async () => {
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true';
      document.body.append(script);
      const img = document.createElement('img');
      img.setAttribute('onerror', 'window.__handlerRan = true');
      img.src = '/no-such-image.png';
      document.body.append(img);
    });
    await page.waitForFunction(() => ((window as unknown as { __violations?: string[] }).__violations ?? []).length >= 2);
    expect(await page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan ?? false)).toBe(false);
    expect(await page.evaluate(() => (window as unknown as { __handlerRan?: boolean }).__handlerRan ?? false)).toBe(false);
    const seen = await allViolations();
    expect(seen.some((v) => v.startsWith('script-src-elem'))).toBe(true);
    expect(seen.some((v) => v.startsWith('script-src-attr'))).toBe(true);
  }, 60_000);
});
