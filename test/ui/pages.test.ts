import { beforeAll, afterAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { waitFor } from '../support/wait-for.ts';
import { ADMIN, block, Client, GIT_PASSWORD, HELLO_FLOW, INPUTS_FLOW, SHAPES_FLOW, startDashboard, type Dashboard } from './dashboard.ts';

const api = async (client: Client, path: string) => (await client.request(path)).json();

describeEachDatabase('dashboard pages', (open) => {
  let dash: Dashboard;
  let client: Client;

  beforeAll(async () => {
    const { db } = await open();
    dash = await startDashboard({
      db,
      admin: ADMIN,
      files: {
        'flows/hello.yaml': HELLO_FLOW,
        'flows/forms/every-input.yaml': INPUTS_FLOW,
        'flows/shapes.yaml': SHAPES_FLOW,
        'files/company.team/sql/query.sql': 'SELECT 1 < 2; -- <b>not bold</b>\n',
        'files/company.team/config.yaml': 'key: "value" # comment\n',
        'files/company.team/blob.bin': '\u0000\u0001binary',
      },
    });
    client = new Client(dash.app);
    expect((await client.login()).status).toBe(303);
  });
  afterAll(async () => {
    await dash?.close();
  });

  it('lists flows by namespace with triggers, revision and commit; user content is escaped', async () => {
    const { status, html } = await client.page('/ui/flows');
    expect(status).toBe(200);
    expect(html).toContain('<!doctype html>');
    expect(html).toContain('<h2>company.forms</h2>');
    expect(html).toContain('<h2>company.team</h2>');
    expect(html.indexOf('company.forms')).toBeLessThan(html.indexOf('<h2>company.team</h2>'));
    expect(html).toContain('href="/ui/flows/company.team/hello"');
    expect(html).toContain('<span class="chip">Schedule</span>');
    expect(html).toContain('Says hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(html).not.toContain('<script>alert(1)</script>');
    const head = (await dash.repo.head()).slice(0, 8);
    expect(html).toContain(`>${head}</code> <span class="author">Ada Lovelace</span> <span class="muted">first flows</span>`);
    expect(html).toContain('never run');
  });

  it('answers the search box with the flow-list fragment only', async () => {
    const { status, html } = await client.page('/ui/flows?q=every', { htmx: true });
    expect(status).toBe(200);
    expect(html.trimStart().startsWith('<div id="flow-list">')).toBe(true);
    expect(html).not.toContain('<html');
    expect(html).toContain('every-input');
    expect(html).not.toContain('/ui/flows/company.team/hello"');
    const none = await client.page('/ui/flows?q=%3Cnothing%3E', { htmx: true });
    expect(none.html).toContain('No flow matches “&lt;nothing&gt;”.');
  });

  it('shows the source highlighted and escaped, with tabs; htmx gets the tab fragment', async () => {
    const { status, html } = await client.page('/ui/flows/company.team/hello');
    expect(status).toBe(200);
    expect(html).toContain('<h1>hello');
    expect(html).toContain('<p class="description">Says hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; more</p>');
    expect(html).toContain('<span class="chip">owner: &lt;b&gt;ada&lt;/b&gt;</span>');
    expect(html).toContain('<span class="y-key">description</span>');
    expect(html).toContain('<span class="y-tpl">{{ flow.id }}</span>');
    expect(html).toContain('<span class="y-com"># greets</span>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toMatch(/<a href="\/ui\/flows\/company\.team\/hello\/source"[^>]* aria-current="page">Source<\/a>/);
    const fragment = await client.page('/ui/flows/company.team/hello/source', { htmx: true });
    expect(fragment.html).not.toContain('<html');
    expect(fragment.html).not.toContain('<h1>');
    expect(fragment.html).toContain('<nav class="tabs"');
    expect(fragment.html).toContain('<span class="y-key">tasks</span>');
  });

  it('draws the topology as an SVG with nested lanes', async () => {
    const { html } = await client.page('/ui/flows/company.team/shapes/topology');
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg" class="topology"');
    for (const id of ['fan', 'left', 'check', 'yes', 'loop', 'call', 'alert']) expect(html).toContain(`data-task-id="${id}"`);
    expect(html).toContain('class="node node-subflow"');
    expect(html).toContain('class="lane lane-loop"');
    expect(html).toContain('class="lane lane-errors"');
    expect(html).toContain('>then<title>then</title>');
    const fragment = await client.page('/ui/flows/company.team/shapes/topology', { htmx: true });
    expect(fragment.html).not.toContain('<html');
    expect(fragment.html).toContain('<svg');
  });

  it('answers an unknown flow or a bad revision with an HTML error page', async () => {
    const missing = await client.page('/ui/flows/company.team/nope');
    expect(missing.status).toBe(404);
    expect(missing.html).toContain('flow company.team.nope not found');
    expect(missing.html).toContain('<!doctype html>');
    const bad = await client.page('/ui/flows/company.team/hello?revision=%3Cb%3E');
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('got &#39;&lt;b&gt;&#39;');
  });

  it('lists triggers with their cron; the backfill form puts to the triggers API', async () => {
    const { html } = await client.page('/ui/flows/company.team/hello/triggers');
    expect(html).toContain('<td>nightly');
    expect(html).toContain('<code>0 2 * * *</code>');
    expect(html).not.toMatch(/<fieldset disabled>/);
    expect(html).toContain('hx-put="/api/v1/triggers"');
  });

  it('generates the Execute form from every input type, defaults prefilled', async () => {
    const { html } = await client.page('/ui/flows/company.forms/every-input/execute');
    expect(html).toContain('enctype="multipart/form-data"');
    expect(block(html, 'data-input="name"')).toMatch(/<input id="input-\d+" type="text" name="name" value="world"/);
    expect(block(html, 'data-input="name"')).toContain('<p class="help">Who to greet &lt;i&gt;(escaped)&lt;/i&gt;</p>');
    const color = block(html, 'data-input="color"');
    expect(color).toMatch(/<select id="input-\d+" name="color">/);
    expect(color).toContain('<option value="green" selected>green</option>');
    expect(color).toContain('<option value="red">red</option>');
    const sizes = block(html, 'data-input="sizes"');
    expect(sizes).toMatch(/<select id="input-\d+" name="sizes" multiple size="4">/);
    expect(sizes).toContain('<option value="M" selected>M</option>');
    const loud = block(html, 'data-input="loud"');
    expect(loud).toContain('<input type="hidden" name="loud" value="false">');
    expect(loud).toMatch(/type="checkbox" name="loud" value="true" checked>/);
    expect(block(html, 'data-input="tags"')).toMatch(/<textarea id="input-\d+" name="tags" rows="4">a\nb<\/textarea>/);
    expect(block(html, 'data-input="tags"')).toContain('One STRING per line.');
    expect(block(html, 'data-input="count"')).toMatch(/type="number" name="count" value="" min="1" max="10" step="1" required/);
    expect(block(html, 'data-input="ratio"')).toMatch(/type="number" name="ratio" value="0.5" step="any"/);
    expect(block(html, 'data-input="at"')).toMatch(/type="datetime-local" name="at" value="2024-01-15T09:30:00" step="1"/);
    expect(block(html, 'data-input="day"')).toMatch(/type="date" name="day" value=""/);
    expect(block(html, 'data-input="time"')).toMatch(/type="time" name="time" value="" step="1"/);
    expect(block(html, 'data-input="payload"')).toMatch(/<textarea id="input-\d+" name="payload" rows="4" placeholder="[^"]*">\{\n {2}&quot;a&quot;: 1\n\}<\/textarea>/);
    expect(block(html, 'data-input="upload"')).toMatch(/type="file" name="upload">/);
    expect(block(html, 'data-input="token"')).toMatch(/type="password" name="token" value="" autocomplete="off">/);
    expect(block(html, 'data-input="email"')).toMatch(/type="email" name="email"/);
    expect(block(html, 'data-input="wait"')).toMatch(/type="text" name="wait" value="" placeholder="PT1H30M"/);
  });

  it('re-renders the form with each error next to its input (422), keeping what was typed', async () => {
    await client.page('/ui/flows/company.forms/every-input/execute');
    const form = { name: 'Ada', color: 'purple', count: '42', ratio: 'abc', payload: '{not json', at: '2024-02-01T10:00', tags: 'x\ny', loud: ['false'] };
    const res = await client.post('/ui/flows/company.forms/every-input/execute', form);
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('Some inputs are not valid');
    for (const id of ['color', 'count', 'ratio', 'payload']) expect(html).toContain(`<div class="field invalid" data-input="${id}">`);
    expect(html).toContain('<div class="field" data-input="name">');
    expect(block(html, 'data-input="color"')).toContain("Invalid input &#39;color&#39;: must be one of [red, green, blue], got &#39;purple&#39;");
    expect(block(html, 'data-input="count"')).toContain('Invalid input &#39;count&#39;');
    expect(block(html, 'data-input="count"')).toContain('value="42"');
    expect(block(html, 'data-input="ratio"')).toContain('Invalid input &#39;ratio&#39;: expected FLOAT');
    expect(block(html, 'data-input="payload"')).toContain('Invalid input &#39;payload&#39;: expected JSON');
    expect(block(html, 'data-input="payload"')).toContain('{not json</textarea>');
    expect(block(html, 'data-input="name"')).not.toContain('role="alert"');
    expect(block(html, 'data-input="name"')).toContain('value="Ada"');
    expect(block(html, 'data-input="tags"')).toContain('x\ny</textarea>');
    expect(block(html, 'data-input="loud"')).not.toMatch(/value="true" checked/);
    expect(block(html, 'data-input="at"')).toContain('value="2024-02-01T10:00"');
    // htmx gets the tab fragment with the same errors.
    const htmx = await client.post('/ui/flows/company.forms/every-input/execute', form, { htmx: true });
    expect(htmx.status).toBe(422);
    const fragment = await htmx.text();
    expect(fragment).not.toContain('<html');
    expect(fragment).toContain('Invalid input &#39;count&#39;');
  });

  it('executes from the form (multipart with a file) and redirects to the execution; the inputs are typed', async () => {
    await client.page('/ui/flows/company.forms/every-input/execute');
    const form = new FormData();
    form.append('name', 'Grace');
    form.append('color', 'blue');
    form.append('sizes', 'S');
    form.append('sizes', 'XL');
    form.append('loud', 'false');
    form.append('tags', 'one\r\ntwo\r\n\r\n');
    form.append('count', '7');
    form.append('ratio', '1.25');
    form.append('at', '2024-03-04T05:06');
    form.append('day', '2024-03-04');
    form.append('time', '');
    form.append('payload', '{"b": [1, 2]}');
    form.append('upload', new File(['col\n1\n'], 'data.csv', { type: 'text/csv' }));
    form.append('token', 's3cret');
    const res = await client.post('/ui/flows/company.forms/every-input/execute', form);
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/ui\/executions\/\w+$/);
    const id = location.split('/').pop()!;
    const execution = await waitFor(async () => {
      const e = await api(client, `/api/v1/executions/${id}`);
      return e.state?.current === 'SUCCESS' ? e : undefined;
    }, 'execution success');
    expect(execution.inputs).toMatchObject({
      name: 'Grace', color: 'blue', sizes: ['S', 'XL'], loud: false, tags: ['one', 'two'], count: 7, ratio: 1.25,
      // A SECRET input is stored encrypted and answered masked (issue #12, finding 5).
      at: '2024-03-04T05:06:00Z', day: '2024-03-04', time: null, payload: { b: [1, 2] }, token: '******',
    });
    expect(execution.inputs.upload).toMatch(/^kestra:\/\/\/company\/forms\/every-input\/executions\/\w+\/inputs\/upload\/data\.csv$/);
    expect(execution.flowRevision).toBe(1);
    expect(execution.commitSha).toBe(await dash.repo.head());
  });

  it('answers an htmx submission with HX-Redirect, then lists the execution with its badge', async () => {
    await client.page('/ui/flows/company.forms/every-input/execute');
    const res = await client.post('/ui/flows/company.forms/every-input/execute', { count: '3', loud: ['false', 'true'] }, { htmx: true });
    expect(res.status).toBe(204);
    const id = res.headers.get('HX-Redirect')!.split('/').pop()!;
    const done = await waitFor(async () => {
      const e = await api(client, `/api/v1/executions/${id}`);
      return e.state?.current === 'SUCCESS' ? e : undefined;
    }, 'execution success');
    expect(done.inputs).toMatchObject({ loud: true, color: 'green', sizes: ['M'], tags: ['a', 'b'], name: 'world' });
    // The API answers from the run in memory; the list reads the database, written a moment later.
    const badgeInList = new RegExp(`<a class="badge SUCCESS" href="/ui/executions/${id}" title="${id}">SUCCESS</a>`);
    const html = await waitFor(async () => {
      const page = await client.page('/ui/flows/company.forms/every-input/executions');
      return badgeInList.test(page.html) ? page.html : undefined;
    }, 'the execution listed with its SUCCESS badge');
    expect(html).toContain(`href="/ui/executions/${id}"`);
    const badge = await client.page(`/ui/flows/company.forms/every-input/executions/${id}/badge`, { htmx: true });
    expect(badge.html).toContain('class="badge SUCCESS"');
    expect(badge.html).not.toContain('hx-get');
    const list = await client.page('/ui/flows');
    expect(list.html).toMatch(/<a class="badge SUCCESS" href="\/ui\/executions\/\w+"/);
  });

  it('gives a running execution a badge that polls itself', async () => {
    const flow = (await dash.app.request('/api/v1/flows/company.team/hello?source=true', { headers: { cookie: `baton_session=${client.cookie}` } }));
    expect(flow.status).toBe(200);
    const run = await dash.engine.create({
      flow: { id: 'hello', namespace: 'company.team', tasks: [{ id: 'nap', type: 'io.kestra.plugin.core.flow.Sleep', duration: 'PT2S' }] },
      revision: 1,
    });
    const done = dash.engine.run(run);
    const badge = await client.page(`/ui/flows/company.team/hello/executions/${run.execution.id}/badge`, { htmx: true });
    expect(badge.html).toMatch(/class="badge (CREATED|RUNNING)"/);
    expect(badge.html).toContain(`hx-get="/ui/flows/company.team/hello/executions/${run.execution.id}/badge" hx-trigger="load delay:1s" hx-swap="outerHTML"`);
    await done;
    const after = await client.page(`/ui/flows/company.team/hello/executions/${run.execution.id}/badge`, { htmx: true });
    expect(after.html).toContain('class="badge SUCCESS"');
    expect(after.html).not.toContain('hx-trigger');
  });

  it('lists revisions and diffs two of them, unified and side by side', async () => {
    const sha = await dash.repo.commit({ 'flows/hello.yaml': HELLO_FLOW.replace('Hello {{ flow.id }}', 'Hi <there>') }, 'say hi', { author: { name: 'Grace Hopper', email: 'grace@example.com' } });
    expect((await dash.syncer.request('manual')).result).toBe('APPLIED');
    const revisions = await client.page('/ui/flows/company.team/hello/revisions');
    expect(revisions.html).toContain(`title="${sha}">${sha.slice(0, 8)}</code>`);
    expect(revisions.html).toContain('<td>Grace Hopper</td>');
    expect(revisions.html).toContain('<td>say hi</td>');
    expect(revisions.html).toMatch(/name="from" value="1"[^>]* checked/);
    expect(revisions.html).toMatch(/name="to" value="2"[^>]* checked/);

    const unified = await client.page('/ui/flows/company.team/hello/diff?from=1&to=2');
    expect(unified.status).toBe(200);
    expect(unified.html).toContain('<h2>Revision 1 → 2</h2>');
    expect(unified.html).toMatch(/<div class="diff-row del">.*Hello <span class="y-tpl">\{\{ flow\.id \}\}<\/span>/);
    expect(unified.html).toMatch(/<div class="diff-row add">.*Hi &lt;there&gt;/);
    expect(unified.html).not.toContain('Hi <there>');
    expect(unified.html).toContain('href="/api/v1/flows/company.team/hello/diff?from=1&amp;to=2"');
    expect(unified.html).toContain('<details class="diff-fold"><summary>');
    const split = await client.page('/ui/flows/company.team/hello/diff?from=1&to=2&view=split', { htmx: true });
    expect(split.html).not.toContain('<html');
    expect(split.html).toMatch(/<code class="del">.*<\/code>\s*<span class="ln">13<\/span><code class="add">/);
    const raw = await client.request('/api/v1/flows/company.team/hello/diff?from=1&to=2');
    expect(await raw.text()).toContain('+    message: "Hi <there>" # greets');
    expect((await client.page('/ui/flows/company.team/hello/diff?from=1&to=9')).status).toBe(404);
    expect((await client.page('/ui/flows/company.team/hello/diff?from=x&to=2')).status).toBe(400);
  });

  it('shows KV entries escaped and deletes one with the CSRF token', async () => {
    const kv = dash.engine.resources.kv;
    await kv.set('company.team', 'greeting', '<b>hi</b>');
    await kv.set('company.team', 'config', { retries: 3 }, { ttl: 'PT1H', description: 'settings' });
    const { html } = await client.page('/ui/kv?namespace=company.team');
    expect(html).toContain('<code>greeting</code>');
    expect(html).toContain('<code class="preview">&lt;b&gt;hi&lt;/b&gt;</code>');
    expect(html).toContain('<code class="preview">{&quot;retries&quot;:3}</code>');
    expect(html).toContain('<td>JSON</td>');
    expect(html).toMatch(/<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<\/td>/);
    expect(html).toContain('<option value="company.forms">');
    expect((await client.post('/ui/kv/delete', { namespace: 'company.team', key: 'greeting' }, { csrf: false })).status).toBe(403);
    expect(await kv.get('company.team', 'greeting')).toBeDefined();
    const res = await client.post('/ui/kv/delete', { namespace: 'company.team', key: 'greeting' }, { htmx: true });
    expect(res.status).toBe(200);
    const fragment = await res.text();
    expect(fragment.trimStart().startsWith('<div id="kv-list">')).toBe(true);
    expect(fragment).toContain('Deleted &#39;greeting&#39;.');
    expect(fragment).not.toContain('<code>greeting</code>');
    expect(await kv.get('company.team', 'greeting')).toBeUndefined();
  });

  it('browses namespace files: listing, text preview, raw link; refuses traversal', async () => {
    const root = await client.page('/ui/files/company.team');
    expect(root.html).toMatch(/sql\/<\/a>/);
    expect(root.html.indexOf('sql/</a>')).toBeLessThan(root.html.indexOf('config.yaml</a>'));
    const dir = await client.page('/ui/files/company.team?path=%2Fsql', { htmx: true });
    expect(dir.html.trimStart().startsWith('<div id="files-browser">')).toBe(true);
    expect(dir.html).toContain('query.sql</a>');
    const file = await client.page('/ui/files/company.team?path=%2Fsql%2Fquery.sql');
    expect(file.html).toContain('<pre><code>SELECT 1 &lt; 2; -- &lt;b&gt;not bold&lt;/b&gt;\n</code></pre>');
    expect(file.html).toContain('href="/api/v1/namespaces/company.team/files?path=%2Fsql%2Fquery.sql"');
    const yaml = await client.page('/ui/files/company.team?path=/config.yaml');
    expect(yaml.html).toContain('<span class="y-key">key</span>');
    const binary = await client.page('/ui/files/company.team?path=/blob.bin');
    expect(binary.html).toContain('Binary file: no preview.');
    expect((await client.page('/ui/files/company.team?path=/sql/../../etc/passwd')).status).toBe(400);
    expect((await client.page('/ui/files/company.team?path=/nope.txt')).status).toBe(404);
  });

  it('shows sync status without credentials, errors with file:line:col, and syncs on demand', async () => {
    await dash.repo.commit({ 'flows/broken.yaml': 'id: broken\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    mesage: typo\n' }, 'broken flow');
    const { html } = await client.page('/ui/sync');
    expect(html).not.toContain(GIT_PASSWORD);
    expect(html).toContain(`<code>${dash.repo.url}</code>`);
    expect(html).toContain('<dt>Branch</dt><dd><code>main</code></dd>');
    expect(html).toContain('<span class="badge SYNCED">SYNCED</span>');
    const res = await client.post('/ui/sync', {}, { htmx: true });
    expect(res.status).toBe(200);
    const fragment = await res.text();
    expect(fragment.trimStart().startsWith('<div id="sync-status">')).toBe(true);
    expect(fragment).toContain('Sync finished: <span class="badge REFUSED">REFUSED</span>');
    expect(fragment).toMatch(/<code>flows\/broken\.yaml:6:5<\/code>/);
    expect(fragment).toContain('<td>manual</td>');
    expect(fragment).not.toContain(GIT_PASSWORD);
    const plain = await client.post('/ui/sync', {});
    expect(plain.status).toBe(303);
    expect(plain.headers.get('location')).toBe('/ui/sync?outcome=REFUSED');
  });
});
