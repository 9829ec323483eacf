import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../db/index.ts';
import { createEngine, newState, transition, type Engine, type Execution, type LogLevel, type StateType } from '../../engine/index.ts';
import { createApp } from '../../server/index.ts';
import { createSyncer, FlowStore, syncConfigFromEnv, type Syncer } from '../../sync/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { FIXTURE_FLOWS } from '../support/fixtures.ts';
import { createRepo, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';

const NS = 'baton.tests';
const fixture = (name: string) => readFile(join(FIXTURE_FLOWS, `${name}.yaml`), 'utf8');

const slowLogs = [
  'id: slow-logs',
  `namespace: ${NS}`,
  'tasks:',
  '  - id: lines',
  '    type: io.kestra.plugin.scripts.shell.Commands',
  '    commands:',
  '      - for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.1; done',
  '  - id: done',
  '    type: io.kestra.plugin.core.log.Log',
  '    message: all done',
  '',
].join('\n');

const afterExecution = [
  'id: after-execution',
  `namespace: ${NS}`,
  'tasks:',
  '  - id: main',
  '    type: io.kestra.plugin.core.log.Log',
  '    message: main work',
  'afterExecution:',
  '  - id: notify',
  '    type: io.kestra.plugin.scripts.shell.Commands',
  '    commands:',
  '      - sleep 3',
  '      - echo notified after the end',
  '',
].join('\n');

const withInputs = (message: string) =>
  [
    'id: with-inputs',
    `namespace: ${NS}`,
    'labels:',
    '  team: data',
    'inputs:',
    '  - id: who',
    '    type: STRING',
    '    defaults: world',
    'tasks:',
    '  - id: hello',
    '    type: io.kestra.plugin.core.log.Log',
    `    message: "${message} {{ inputs.who }}"`,
    '',
  ].join('\n');

interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** Reads server-sent events until `event: end` (or the timeout). */
async function readSse(res: Response, timeoutMs = 20_000): Promise<SseEvent[]> {
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('SSE timed out')), Math.max(deadline - Date.now(), 1))),
      ]);
      if (chunk.done) return events;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) continue;
        const event: SseEvent = { event: 'message', data: '' };
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          const field = line.slice(0, colon);
          const value = line.slice(colon + 2);
          if (field === 'id') event.id = value;
          else if (field === 'event') event.event = value;
          else if (field === 'data') event.data += value;
        }
        events.push(event);
        if (event.event === 'end') return events;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The rows of the Gantt chart: task, depth and the states and positions of its segments. */
function ganttRows(html: string) {
  const rows: { task: string; depth: number; segments: { state: string; left: number; width: number }[] }[] = [];
  const rowPattern = /<div class="gantt-row" role="row" data-task-run="[^"]+" data-task="([^"]+)" data-depth="(\d+)">([\s\S]*?)<div class="gantt-duration"/g;
  for (const m of html.matchAll(rowPattern)) {
    const segments = [...m[3].matchAll(/class="gantt-seg [^"]*" data-state="([A-Z]+)" style="left: ([\d.]+)%; width: ([\d.]+)%"/g)].map((s) => ({
      state: s[1],
      left: Number(s[2]),
      width: Number(s[3]),
    }));
    rows.push({ task: m[1], depth: Number(m[2]), segments });
  }
  return rows;
}

const listedIds = (html: string) => [...html.matchAll(/<tr data-execution="([^"]+)">/g)].map((m) => m[1]);
const lineIds = (html: string) => [...html.matchAll(/<div class="log-line [A-Z]+" data-id="(\d+)">/g)].map((m) => Number(m[1]));

describeEachDatabase('executions dashboard', (open) => {
  let git: GitServer;
  let repo: TestRepo;
  let db: Db;
  let engine: Engine;
  let flows: FlowStore;
  let syncer: Syncer;
  let app: Hono;
  const page = async (path: string, headers: Record<string, string> = {}) => {
    const res = await app.request(path, { headers });
    return { status: res.status, html: await res.text(), res };
  };

  /** Creates an execution of a synced flow (with its revision and commit) and runs it. */
  async function start(flowId: string, inputs: Record<string, unknown> = {}) {
    const stored = await flows.getFlow(NS, flowId);
    const run = await engine.create({ flow: stored.definition, revision: stored.revision, commitSha: stored.commit?.sha ?? null, inputs });
    return { id: run.execution.id, done: engine.run(run) };
  }

  async function finished(flowId: string, inputs: Record<string, unknown> = {}): Promise<Execution> {
    const { id, done } = await start(flowId, inputs);
    await done;
    await engine.settled(id);
    return (await engine.findExecution(id))!;
  }

  /** A dashboard session: its cookie and the CSRF token its forms carry. */
  async function session(path: string) {
    const res = await app.request(path);
    const cookie = res.headers.get('set-cookie')!.split(';')[0];
    const csrf = /name="csrf" value="([^"]+)"/.exec(await res.text())![1];
    return { cookie, csrf };
  }

  async function post(path: string, auth: { cookie: string; csrf?: string }, fields: Record<string, string> = {}) {
    const body = new URLSearchParams(fields);
    if (auth.csrf) body.set('csrf', auth.csrf);
    return app.request(path, { method: 'POST', headers: { cookie: auth.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
  }

  async function waitForState(id: string, accept: (state: StateType) => boolean): Promise<StateType> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const state = (await engine.findExecution(id))?.state.current;
      if (state && accept(state)) return state;
      if (Date.now() > deadline) throw new Error(`execution ${id} stayed ${state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  beforeAll(async () => {
    ({ db } = await open());
    git = await startGitServer();
    const files: Record<string, string> = {
      'flows/slow-logs.yaml': slowLogs,
      'flows/with-inputs.yaml': withInputs('hello'),
      'flows/after-execution.yaml': afterExecution,
    };
    for (const name of ['retry-constant', 'parallel', 'for-each', 'scripts-shell', 'killable', 'log-return']) {
      files[`flows/${name}.yaml`] = await fixture(name);
    }
    repo = await createRepo(git, 'ui-flows', files, { author: { name: 'Ada Lovelace', email: 'ada@example.com' }, message: 'first flows' });
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-ui-exec-'));
    const env = { BATON_GIT_URL: repo.url, BATON_GIT_BRANCH: 'main', BATON_SYNC_POLL_SECONDS: '0' };
    const config = syncConfigFromEnv(env);
    flows = new FlowStore(db);
    engine = createEngine({ db, dataDir, flows: flows.flowSource(), namespaceFiles: flows.namespaceFiles(), env: {} });
    syncer = await createSyncer({ db, config, dataDir, env });
    expect((await syncer.start()).result).toBe('APPLIED');
    // A second revision of one flow, so its executions link to the diff from revision 1.
    await repo.commit({ 'flows/with-inputs.yaml': withInputs('bonjour') }, 'say bonjour', { author: { name: 'Grace Hopper', email: 'grace@example.com' } });
    expect((await syncer.request('manual')).result).toBe('APPLIED');
    app = createApp({ db, engine, flows, syncer, sync: config, branch: syncer.branch, repository: syncer.repository });
  });

  afterAll(async () => {
    await engine?.idle();
    await syncer?.stop();
    await git?.close();
  });

  it('lists executions newest first, one page at a time, and filters by namespace (with children), flow, state and dates', async () => {
    const base = Date.UTC(2024, 2, 1);
    const namespaces = ['list.acme.data', 'list.acme.database', 'list.acme.data.sub', 'list.other'];
    const stateOf = (i: number): StateType => (i % 7 === 0 ? 'RUNNING' : i % 5 === 0 ? 'FAILED' : 'SUCCESS');
    for (let i = 0; i < 60; i++) {
      const start = new Date(base + i * 3_600_000);
      let state = transition(newState('CREATED', start), 'RUNNING', 'seed', start);
      if (stateOf(i) !== 'RUNNING') state = transition(state, stateOf(i), 'seed', new Date(start.getTime() + 90_000));
      await engine.resources.repository.saveExecution({
        id: `list-${String(i).padStart(2, '0')}`, namespace: namespaces[i % 4], flowId: `f${i % 3}`, flowRevision: 1, state,
        inputs: {}, outputs: null, labels: [{ key: 'n', value: String(i) }], variables: null, trigger: null, taskRunList: [],
        originalId: null, parentExecutionId: null, parentTaskRunId: null, commitSha: null, attemptNumber: 1,
      });
    }
    const ids = (indexes: number[]) => indexes.map((i) => `list-${String(i).padStart(2, '0')}`);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => to - k);

    const first = await page('/ui/executions?namespace=list');
    expect(first.status).toBe(200);
    expect(first.html).toContain('<html');
    expect(listedIds(first.html)).toEqual(ids(range(35, 59)));
    expect(first.html).toContain('href="/ui/executions?namespace=list&amp;page=2"');
    expect(first.html).not.toContain('rel="prev"');

    const last = await page('/ui/executions?namespace=list&page=3');
    expect(listedIds(last.html)).toEqual(ids(range(0, 9)));
    expect(last.html).toContain('rel="prev"');
    expect(last.html).not.toContain('rel="next"');
    expect(listedIds((await page('/ui/executions?namespace=list&page=2&size=7')).html)).toEqual(ids(range(46, 52)));

    // `list.acme.data` includes `list.acme.data.sub` but not `list.acme.database`.
    const byNamespace = await page('/ui/executions?namespace=list.acme.data&size=100');
    expect(listedIds(byNamespace.html)).toEqual(ids(range(0, 59).filter((i) => i % 4 === 0 || i % 4 === 2)));

    const combined = await page('/ui/executions?namespace=list&flowId=f1&state=FAILED&size=100');
    expect(listedIds(combined.html)).toEqual(ids(range(0, 59).filter((i) => i % 3 === 1 && stateOf(i) === 'FAILED')));

    const dated = await page('/ui/executions?namespace=list&from=2024-03-01T10:00&to=2024-03-01T20:00&size=100');
    expect(listedIds(dated.html)).toEqual(ids(range(10, 20)));

    const bad = await page('/ui/executions?namespace=list&state=BOGUS&from=yesterday');
    expect(bad.html).toContain('Ignored: unknown state');
    expect(bad.html).toContain('is not a date (from)');
    expect(listedIds(bad.html)).toHaveLength(25);
  });

  it('answers htmx with the list fragment only, and history restores with the whole page', async () => {
    const fragment = await page('/ui/executions?namespace=list&page=2', { 'HX-Request': 'true' });
    expect(fragment.html.trimStart().startsWith('<div id="execution-list">')).toBe(true);
    expect(fragment.html).not.toContain('<html');
    expect(fragment.html).not.toContain('<form');
    expect(listedIds(fragment.html)).toHaveLength(25);
    const restore = await page('/ui/executions?namespace=list&page=2', { 'HX-Request': 'true', 'HX-History-Restore-Request': 'true' });
    expect(restore.html).toContain('<html');
  });

  it('running rows poll their own badge; terminal badges carry no hx-trigger', async () => {
    const { html } = await page('/ui/executions?namespace=list&size=100');
    const badges = [...html.matchAll(/<span class="badge ([A-Z]+)" data-state="[A-Z]+"([^>]*)>/g)];
    expect(badges).toHaveLength(60);
    for (const [, state, attributes] of badges) {
      if (state === 'RUNNING') expect(attributes).toMatch(/hx-get="\/ui\/executions\/list-\d+\/badge" hx-trigger="load delay:1s" hx-swap="outerHTML"/);
      else expect(attributes).not.toContain('hx-');
    }
    const running = await page('/ui/executions/list-07/badge', { 'HX-Request': 'true' });
    expect(running.html).toContain('hx-trigger="load delay:1s"');
    const ended = await page('/ui/executions/list-05/badge', { 'HX-Request': 'true' });
    expect(ended.html).toContain('data-state="FAILED"');
    expect(ended.html).not.toContain('hx-trigger');
    expect(ended.html).not.toContain('hx-get');
    expect((await page('/ui/executions/nope/badge')).status).toBe(404);
  });

  it('the execution page shows inputs, labels, the revision with its commit and a link to the diff from the previous one', async () => {
    const execution = await finished('with-inputs', { who: 'Ada' });
    const { status, html } = await page(`/ui/executions/${execution.id}`);
    expect(status).toBe(200);
    const sha = await repo.head();
    expect(html).toContain(`title="${sha}">${sha.slice(0, 8)}</code> say bonjour`);
    expect(html).toContain('Grace Hopper');
    expect(html).toContain(`href="/ui/flows/${NS}/with-inputs/diff?from=1&amp;to=2"`);
    expect(html).toMatch(/<span class="key">who<\/span>: <span class="value">Ada<\/span>/);
    expect(html).toContain('<span class="chip">team:data</span>');
    expect(html).toContain('bonjour Ada');
    expect((await page('/ui/executions/does-not-exist')).status).toBe(404);
  });

  it('the live region polls itself while the execution runs and stops once it is terminal', async () => {
    const { id } = await start('killable');
    await waitForState(id, (s) => s === 'RUNNING');
    const running = await page(`/ui/executions/${id}/run`, { 'HX-Request': 'true' });
    expect(running.html).toMatch(new RegExp(`<div id="execution-run" hx-get="/ui/executions/${id}/run" hx-trigger="load delay:1s" hx-swap="outerHTML">`));
    expect(running.html).toContain(`action="/ui/executions/${id}/kill"`);
    expect(running.html).not.toContain('/restart"');
    await engine.kill(id);
    await waitForState(id, (s) => s === 'KILLED');
    await engine.settled(id);
    const ended = await page(`/ui/executions/${id}/run`, { 'HX-Request': 'true' });
    expect(ended.html).toContain('<div id="execution-run">');
    expect(ended.html).not.toContain('hx-trigger');
    expect(ended.html).not.toContain('/kill"');
    expect(ended.html).toContain(`action="/ui/executions/${id}/restart"`);
    expect(ended.html).toContain(`action="/ui/executions/${id}/replay"`);
    // Without htmx the region is not a page of its own.
    expect((await app.request(`/ui/executions/${id}/run`)).status).toBe(302);
  });

  it('Gantt: each retry attempt is a segment coloured by its state, in time order', async () => {
    const execution = await finished('retry-constant');
    const rows = ganttRows((await page(`/ui/executions/${execution.id}`)).html);
    expect(rows).toHaveLength(1);
    const [flaky] = rows;
    expect(flaky.task).toBe('flaky');
    expect(flaky.segments.map((s) => s.state)).toEqual(['FAILED', 'FAILED', 'SUCCESS']);
    for (let i = 1; i < flaky.segments.length; i++) {
      // The retry interval (50 ms) separates attempts: each starts after the previous one ends.
      expect(flaky.segments[i].left).toBeGreaterThanOrEqual(flaky.segments[i - 1].left + flaky.segments[i - 1].width - 0.5);
    }
    expect(flaky.segments[2].left + flaky.segments[2].width).toBeGreaterThan(95);
  });

  it('Gantt: parallel children are indented under their parent and overlap in time', async () => {
    const execution = await finished('parallel');
    const rows = ganttRows((await page(`/ui/executions/${execution.id}`)).html);
    expect(rows.map((r) => `${r.depth}:${r.task}`)).toEqual(['0:fan', '1:a', '1:b', '1:c', '0:after']);
    const a = rows[1].segments[0];
    const b = rows[2].segments[0];
    expect(a.left < b.left + b.width && b.left < a.left + a.width).toBe(true);
    // The flowable parent has no attempts: its own run is the one segment, spanning its children.
    expect(rows[0].segments).toHaveLength(1);
    expect(rows[0].segments[0].left).toBeLessThanOrEqual(a.left);
    expect(rows[0].segments[0].left + rows[0].segments[0].width).toBeGreaterThanOrEqual(b.left + b.width - 0.5);
  });

  it('Gantt and task-run tree: nested loops put each task run right under its parent', async () => {
    const execution = await finished('for-each');
    const { html } = await page(`/ui/executions/${execution.id}`);
    const rows = ganttRows(html);
    const outer = rows.findIndex((r) => r.task === 'outer');
    expect(rows.slice(outer, outer + 7).map((r) => `${r.depth}:${r.task}`)).toEqual([
      '0:outer', '1:inner', '2:cell', '2:cell', '1:inner', '2:cell', '2:cell',
    ]);
    // The task-run table follows the same order, with values and attempt counts.
    const tableRows = [...html.matchAll(/<tr data-task-run="([^"]+)" data-depth="(\d)">\s*<td[^>]*>(?:<span class="muted">└ <\/span>)?([\w-]+)<\/td>\s*<td>([^<]*)<\/td>/g)];
    const cells = tableRows.filter((m) => m[3] === 'cell').map((m) => `${m[2]}:${m[4]}`);
    expect(cells).toEqual(['2:1', '2:2', '2:1', '2:2']);
    expect(tableRows.map((m) => m[1])).toEqual(
      [...html.matchAll(/<div class="gantt-row" role="row" data-task-run="([^"]+)"/g)].map((m) => m[1]),
    );
  });

  it('outputs: files of this execution are previewed and downloadable; other executions’ files are refused', async () => {
    const mine = await finished('scripts-shell');
    const other = await finished('scripts-shell');
    const uriOf = (e: Execution) => (e.taskRunList.find((t) => t.taskId === 'produce')!.outputs!.outputFiles as Record<string, string>)['data.csv'];
    const { html } = await page(`/ui/executions/${mine.id}`);
    const encoded = encodeURIComponent(uriOf(mine));
    expect(html).toContain(`href="/ui/executions/${mine.id}/file/preview?path=${encoded}"`);
    expect(html).toMatch(/<span class="key">rows<\/span>: <span class="value">1<\/span>/);

    const preview = await page(`/ui/executions/${mine.id}/file/preview?path=${encoded}`, { 'HX-Request': 'true' });
    expect(preview.status).toBe(200);
    expect(preview.html).toContain('<pre class="file-text">a,b\n1,2\n</pre>');
    expect(preview.html).not.toContain('<html');
    // Downloads are the API's (it accepts the dashboard session).
    const downloadUrl = `/api/v1/executions/${mine.id}/file?path=${encoded}`;
    expect(html).toContain(`href="${downloadUrl}"`);
    expect(preview.html).toContain(`href="${downloadUrl}"`);
    const download = await app.request(downloadUrl);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('a,b\n1,2\n');

    const foreign = encodeURIComponent(uriOf(other));
    const refused = await page(`/ui/executions/${mine.id}/file/preview?path=${foreign}`, { 'HX-Request': 'true' });
    expect(refused.status).toBe(403);
    expect(refused.html).not.toContain('a,b');
    expect(refused.html).toContain('does not belong to this execution');
    // Climbing out of this execution's folder is refused too.
    const climbing = uriOf(other).replace(`/executions/${other.id}/`, `/executions/${mine.id}/../${other.id}/`);
    expect((await app.request(`/ui/executions/${mine.id}/file/preview?path=${encodeURIComponent(climbing)}`)).status).toBe(403);
    // Without htmx the preview is a page of its own, refused the same way.
    const refusedPage = await page(`/ui/executions/${mine.id}/file/preview?path=${foreign}`);
    expect(refusedPage.status).toBe(403);
    expect(refusedPage.html).toContain('<html');
    expect(refusedPage.html).not.toContain('a,b');
    expect((await app.request(`/ui/executions/${mine.id}/file/preview?path=${encodeURIComponent('kestra:///etc/passwd')}`)).status).toBe(403);
  });

  it('logs: the page renders only the tail; "load older" pages back by id without gaps or repeats', async () => {
    const execution = await finished('log-return');
    const existing = (await engine.resources.repository.findLogs(execution.id)).length;
    const levels: LogLevel[] = ['DEBUG', 'INFO', 'INFO', 'WARN', 'ERROR'];
    const extra = 1234;
    const entries = Array.from({ length: extra }, (_, i) => ({
      executionId: execution.id, taskRunId: null, taskId: 'bulk', attemptNumber: null,
      timestamp: new Date(Date.UTC(2024, 0, 1) + i).toISOString(), level: levels[i % 5], message: `bulk line ${i}${i === 777 ? ' 100% <b>done</b>' : ''}`,
    }));
    await engine.resources.repository.appendLogs(entries);
    const all = (await engine.resources.repository.findLogs(execution.id)).map((l) => l.id);
    expect(all).toHaveLength(existing + extra);

    const { html } = await page(`/ui/executions/${execution.id}`);
    const tail = lineIds(html);
    expect(tail).toEqual(all.slice(-500));
    expect(html).not.toContain('data-stream-url');
    expect(html).toContain('100% &lt;b&gt;done&lt;/b&gt;');

    const seen = [...tail];
    let older = /hx-get="([^"]+\/logs\/older\?beforeId=\d+)"/.exec(html)?.[1];
    let pages = 0;
    while (older) {
      const next = await page(older.replace(/&amp;/g, '&'), { 'HX-Request': 'true' });
      expect(next.html).not.toContain('<html');
      const ids = lineIds(next.html);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.at(-1)).toBeLessThan(seen[0]);
      seen.unshift(...ids);
      older = /hx-get="([^"]+\/logs\/older\?beforeId=\d+)"/.exec(next.html)?.[1];
      pages++;
    }
    expect(pages).toBe(Math.ceil(all.length / 500) - 1);
    expect(seen).toEqual(all);

    // Without htmx, "load older" is a page of its own.
    const fallback = await app.request(`/ui/executions/${execution.id}/logs/older?beforeId=${tail[0]}`);
    expect(fallback.status).toBe(302);
    expect(fallback.headers.get('location')).toBe(`/ui/executions/${execution.id}?beforeId=${tail[0]}#logs`);
    const olderPage = await page(`/ui/executions/${execution.id}?beforeId=${tail[0]}`);
    expect(lineIds(olderPage.html)).toEqual(all.slice(-1000, -500));
    expect(olderPage.html).toContain('Back to the latest');
  });

  it('logs: level filter and literal text search, on the page and in the panel fragment', async () => {
    const execution = await finished('log-return');
    await engine.resources.repository.appendLogs(
      ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].map((level, i) => ({
        executionId: execution.id, taskRunId: null, taskId: 'filter', attemptNumber: null,
        timestamp: new Date().toISOString(), level: level as LogLevel, message: `${level.toLowerCase()} msg ${i % 2 ? '50%_off' : '50 percent'}`,
      })),
    );
    const warn = await page(`/ui/executions/${execution.id}/logs?level=WARN`, { 'HX-Request': 'true' });
    expect(warn.html.trimStart().startsWith('<div id="log-view"')).toBe(true);
    expect([...warn.html.matchAll(/<span class="log-level">([A-Z]+)<\/span>/g)].map((m) => m[1])).toEqual(['WARN', 'ERROR']);
    const search = await page(`/ui/executions/${execution.id}?q=${encodeURIComponent('50%_')}`);
    expect([...search.html.matchAll(/<span class="log-message">([^<]+)<\/span>/g)].map((m) => m[1])).toEqual(['debug msg 50%_off', 'warn msg 50%_off']);
    const none = await page(`/ui/executions/${execution.id}/logs?q=nothing-like-this`, { 'HX-Request': 'true' });
    expect(none.html).toContain('No line matches.');
    expect(search.html).toContain(`href="/api/v1/logs/${execution.id}/download"`);
  });

  it('logs stream: stored lines then live ones, each once and in order, ending with the execution', async () => {
    const { id, done } = await start('slow-logs');
    const res = await app.request(`/ui/executions/${id}/logs/stream?after=0`);
    const events = await readSse(res);
    await done;
    expect(events.at(-1)!.event).toBe('end');
    const lines = events.filter((e) => e.event === 'message').map((e) => ({ id: Number(e.id), ...JSON.parse(e.data) }));
    const stored = await engine.resources.repository.findLogs(id);
    expect(lines.map((l) => l.id)).toEqual(stored.map((l) => l.id));
    expect(lines.every((l) => l.id === l.id && String(l.id) === String(l.id))).toBe(true);
    expect(lines.map((l) => l.message)).toEqual(stored.map((l) => l.message));
    expect(lines.filter((l) => /^line \d$/.test(l.message)).map((l) => l.message)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `line ${i}`));
    expect(lines.at(-1)!.message).toBe('all done');

    // Resuming (EventSource sends Last-Event-ID) continues right after that line.
    const resumed = await readSse(await app.request(`/ui/executions/${id}/logs/stream?after=0`, { headers: { 'Last-Event-ID': String(stored[2].id) } }));
    expect(resumed.filter((e) => e.event === 'message').map((e) => Number(e.id))).toEqual(stored.slice(3).map((l) => l.id));
    // A filtered stream sends only what the panel shows.
    const filtered = await readSse(await app.request(`/ui/executions/${id}/logs/stream?after=0&q=line%207`));
    expect(filtered.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data).message)).toEqual(['line 7']);
  });

  it('the page of a running execution streams from its last rendered line', async () => {
    const { id, done } = await start('slow-logs');
    // Wait for some lines to be stored, so the page renders a tail and the stream continues after it.
    for (let i = 0; i < 200 && (await engine.resources.repository.findLogs(id)).length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    const { html } = await page(`/ui/executions/${id}`);
    const rendered = lineIds(html);
    expect(rendered.length).toBeGreaterThan(0);
    const streamUrl = /data-stream-url="([^"]+)"/.exec(html)![1].replace(/&amp;/g, '&');
    expect(streamUrl).toBe(`/ui/executions/${id}/logs/stream?after=${rendered.at(-1)}`);
    const events = await readSse(await app.request(streamUrl));
    await done;
    const streamed = events.filter((e) => e.event === 'message').map((e) => Number(e.id));
    expect([...rendered, ...streamed]).toEqual((await engine.resources.repository.findLogs(id)).map((l) => l.id));
  });

  it('lines written after the terminal state (afterExecution) still stream before the end', async () => {
    const { id, done } = await start('after-execution');
    await waitForState(id, (s) => s === 'SUCCESS');
    // Terminal already, but its afterExecution task still runs here: the page keeps following.
    const { html } = await page(`/ui/executions/${id}`);
    const streamUrl = /data-stream-url="([^"]+)"/.exec(html)?.[1].replace(/&amp;/g, '&');
    expect(streamUrl).toBeDefined();
    const events = await readSse(await app.request(streamUrl!));
    await done;
    const streamed = events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data).message);
    expect(streamed).toContain('notified after the end');
    expect([...lineIds(html), ...events.filter((e) => e.event === 'message').map((e) => Number(e.id))]).toEqual(
      (await engine.resources.repository.findLogs(id)).map((l) => l.id),
    );
    // Once it has completely ended, the page has no stream any more.
    await engine.settled(id);
    expect((await page(`/ui/executions/${id}`)).html).not.toContain('data-stream-url');
  });

  it('kill, restart and replay are CSRF-protected forms that call the engine', async () => {
    const { id } = await start('killable');
    await waitForState(id, (s) => s === 'RUNNING');
    const auth = await session(`/ui/executions/${id}`);
    expect((await post(`/ui/executions/${id}/kill`, { cookie: auth.cookie })).status).toBe(403);
    expect((await engine.findExecution(id))!.state.current).toBe('RUNNING');
    const killed = await post(`/ui/executions/${id}/kill`, auth);
    expect(killed.status).toBe(303);
    expect(killed.headers.get('location')).toBe(`/ui/executions/${id}`);
    expect(await waitForState(id, (s) => s === 'KILLED')).toBe('KILLED');
    await engine.settled(id);

    const again = await post(`/ui/executions/${id}/kill`, auth);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('nothing to kill');

    const failed = await finished('log-return');
    const restarted = await post(`/ui/executions/${failed.id}/restart`, auth);
    expect(restarted.status).toBe(303);
    expect(restarted.headers.get('location')).toBe(`/ui/executions/${failed.id}`);
    await waitForState(failed.id, (s) => s === 'SUCCESS');
    await engine.settled(failed.id);
    expect((await engine.findExecution(failed.id))!.attemptNumber).toBe(2);

    const replayed = await post(`/ui/executions/${failed.id}/replay`, auth, { taskRunId: '' });
    expect(replayed.status).toBe(303);
    const replayId = replayed.headers.get('location')!.split('/').pop()!;
    expect(replayId).not.toBe(failed.id);
    await waitForState(replayId, (s) => s === 'SUCCESS');
    await engine.settled(replayId);
    const replayPage = await page(`/ui/executions/${replayId}`);
    expect(replayPage.html).toContain(`Replay of</dt><dd><a href="/ui/executions/${failed.id}">`);
    expect((await post(`/ui/executions/missing/restart`, auth)).status).toBe(404);
  });
});
