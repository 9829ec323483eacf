import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/index.ts';
import { chromiumService, launchBrowser, SCREENSHOTS } from '../support/browser.ts';
import { createRepo, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';

const ADMIN = { user: 'admin', password: 'browser-test-password' };

const demoFlow = (message: string) => [
  'id: browser-demo',
  'namespace: company.team',
  'description: Picks a <em>colour</em> and reports it',
  'inputs:',
  '  - id: choice',
  '    type: SELECT',
  '    values: [alpha, beta, gamma]',
  '    defaults: alpha',
  '    description: The value to report',
  '  - id: note',
  '    type: STRING',
  '    defaults: hello',
  'tasks:',
  '  - id: fan',
  '    type: io.kestra.plugin.core.flow.Parallel',
  '    tasks:',
  '      - id: report',
  '        type: io.kestra.plugin.core.debug.Return',
  '        format: "{{ inputs.choice }}"',
  '      - id: branch',
  '        type: io.kestra.plugin.core.flow.If',
  '        condition: "{{ inputs.choice == \'gamma\' }}"',
  '        then:',
  '          - id: gamma_only',
  '            type: io.kestra.plugin.core.log.Log',
  `            message: "${message}"`,
  '',
].join('\n');

chromiumService.describe('flow pages in Chromium', () => {
  let gitServer: GitServer;
  let repo: TestRepo;
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    gitServer = await startGitServer();
    repo = await createRepo(gitServer, 'browser-flows', { 'flows/demo.yaml': demoFlow('gamma chosen') }, { message: 'add the demo flow' });
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-browser-'));
    server = await startServer({
      dataDir,
      port: 0,
      quiet: true,
      env: { BATON_GIT_URL: repo.url, BATON_ADMIN_USER: ADMIN.user, BATON_ADMIN_PASSWORD: ADMIN.password, BATON_SYNC_POLL_SECONDS: '0' },
    });
    expect(server.initialSync!.result).toBe('APPLIED');
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await gitServer?.close();
  });

  it('logs in and lists the flow', async () => {
    await page.goto(`${server.url}/ui/flows`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.fill('input[name=user]', ADMIN.user);
    await page.fill('input[name=password]', 'wrong password');
    await page.click('button[type=submit]');
    await page.waitForSelector('p.error[role=alert]');
    expect(await page.textContent('p.error[role=alert]')).toContain('Wrong user or password.');
    await page.fill('input[name=password]', ADMIN.password);
    await shot('login');
    await page.click('button[type=submit]');
    await page.waitForURL(`${server.url}/ui/flows`);
    expect(await page.textContent('header.top')).toContain('Log out admin');
    expect(await page.textContent('#flow-list')).toContain('browser-demo');
    // The description's markup shows as text.
    expect(await page.textContent('#flow-list')).toContain('Picks a <em>colour</em> and reports it');
    await shot('flows');
    // The search box swaps the list in place as one types.
    await page.fill('#flow-search', 'no-such-flow');
    await page.waitForSelector('#flow-list >> text=No flow matches');
    expect(new URL(page.url()).search).toBe('?q=no-such-flow');
    await page.fill('#flow-search', 'demo');
    await page.waitForSelector('#flow-list a[href="/ui/flows/company.team/browser-demo"]');
  }, 60_000);

  it('opens the flow and its topology', async () => {
    await page.click('a[href="/ui/flows/company.team/browser-demo"]');
    await page.waitForSelector('pre.yaml');
    expect(await page.textContent('pre.yaml')).toContain('io.kestra.plugin.core.flow.Parallel');
    expect(await page.locator('pre.yaml .y-tpl').count()).toBeGreaterThan(0);
    await shot('flow-source');
    await page.click('nav.tabs a:has-text("Topology")');
    await page.waitForSelector('svg.topology');
    // htmx swapped the tab in place and pushed its URL.
    expect(new URL(page.url()).pathname).toBe('/ui/flows/company.team/browser-demo/topology');
    expect(await page.locator('svg.topology g.node').count()).toBe(4);
    expect(await page.locator('svg.topology g.node-group').count()).toBe(2);
    const box = await page.locator('svg.topology [data-task-id="gamma_only"] rect').boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    await shot('flow-topology');
  }, 60_000);

  it('executes it from the generated form with a chosen SELECT value', async () => {
    await page.click('nav.tabs a:has-text("Execute")');
    await page.waitForSelector('form.execute');
    expect(await page.inputValue('select[name=choice]')).toBe('alpha');
    expect(await page.textContent('[data-input="choice"] p.help')).toBe('The value to report');
    await page.selectOption('select[name=choice]', 'gamma');
    await shot('flow-execute');
    await page.click('form.execute button[type=submit]');
    await page.waitForURL(/\/ui\/executions\/\w+$/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    let execution: { state: { current: string }; inputs: Record<string, unknown>; flowRevision: number } | undefined;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      // The session cookie authenticates the API too.
      const res = await page.request.get(`${server.url}/api/v1/executions/${id}`);
      expect(res.status()).toBe(200);
      execution = await res.json();
      if (execution!.state.current === 'SUCCESS' || execution!.state.current === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(execution!.state.current).toBe('SUCCESS');
    expect(execution!.inputs).toEqual({ choice: 'gamma', note: 'hello' });
    expect(execution!.flowRevision).toBe(1);
  }, 60_000);

  it('syncs a second revision with the Sync now button and opens the diff', async () => {
    await repo.commit({ 'flows/demo.yaml': demoFlow('gamma was chosen <again>') }, 'reword the gamma message');
    await page.goto(`${server.url}/ui/sync`);
    const request = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/ui/sync');
    await page.click('#sync-status button[type=submit]');
    // htmx sends the CSRF header the layout declares.
    expect((await request).headers()['x-csrf-token']).toMatch(/^[\w-]{20,}$/);
    await page.waitForSelector('#sync-status .notice .badge.APPLIED');
    await shot('sync');

    await page.goto(`${server.url}/ui/flows/company.team/browser-demo/revisions`);
    expect(await page.locator('table.revisions tbody tr').count()).toBe(2);
    expect(await page.isChecked('input[name=from][value="1"]')).toBe(true);
    expect(await page.isChecked('input[name=to][value="2"]')).toBe(true);
    await page.check('input[name=view][value=split]');
    await page.click('form button[type=submit]');
    await page.waitForSelector('.diff.split');
    expect(new URL(page.url()).pathname).toBe('/ui/flows/company.team/browser-demo/diff');
    expect(await page.textContent('.diff.split code.del')).toContain('message: "gamma chosen"');
    expect(await page.textContent('.diff.split code.add')).toContain('message: "gamma was chosen <again>"');
    expect(await page.locator('.diff.split details.diff-fold').count()).toBe(1);
    await shot('flow-diff');
  }, 60_000);
});
