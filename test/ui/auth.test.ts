import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/index.ts';
import { ADMIN, Client, HELLO_FLOW, startDashboard, type Dashboard } from './dashboard.ts';

const TOKEN = 'api-token-for-ui-tests';

describe('dashboard login, sessions and CSRF', () => {
  let database: Database;
  let dash: Dashboard;

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://' });
    dash = await startDashboard({ db: database.db, files: { 'flows/hello.yaml': HELLO_FLOW }, admin: ADMIN, apiToken: TOKEN });
  });
  afterAll(async () => {
    await dash?.close();
    await database?.close();
  });

  it('sends visitors without a session to the login page, htmx ones through HX-Redirect', async () => {
    const client = new Client(dash.app);
    const res = await client.request('/ui/flows?q=x');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui/login?next=%2Fui%2Fflows%3Fq%3Dx');
    const htmx = await new Client(dash.app).request('/ui/flows/company.team/hello/topology', { htmx: true });
    expect(htmx.status).toBe(401);
    expect(htmx.headers.get('HX-Redirect')).toBe('/ui/login?next=%2Fui%2Fflows%2Fcompany.team%2Fhello%2Ftopology');
  });

  it('gives the login page an HttpOnly, SameSite=Lax session cookie (Secure only over https)', async () => {
    const res = await dash.app.request('/ui/login');
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('baton_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const html = await res.text();
    expect(html).toMatch(/<input type="hidden" name="csrf" value="[\w-]{20,}">/);
    const https = await dash.app.request('https://localhost/ui/login');
    expect(https.headers.getSetCookie().find((c) => c.startsWith('baton_session='))).toMatch(/; Secure/);
    const proxied = await dash.app.request('/ui/login', { headers: { 'x-forwarded-proto': 'https' } });
    expect(proxied.headers.getSetCookie().find((c) => c.startsWith('baton_session='))).toMatch(/; Secure/);
  });

  it('refuses a login form without its CSRF token (403)', async () => {
    const client = new Client(dash.app);
    await client.page('/ui/login');
    const res = await client.post('/ui/login', { user: ADMIN.user, password: ADMIN.password }, { csrf: false });
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/CSRF/);
  });

  it('answers a wrong password with 401 and the form again, and logs nobody in', async () => {
    const client = new Client(dash.app);
    await client.page('/ui/login');
    const res = await client.post('/ui/login', { user: ADMIN.user, password: 'wrong', next: '/ui/kv' });
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain('Wrong user or password.');
    expect(html).toContain('value="admin"');
    expect(html).not.toContain('Log out');
    expect((await client.request('/ui/flows')).status).toBe(303);
    // A wrong user with the right password is refused too.
    expect((await client.post('/ui/login', { user: 'root', password: ADMIN.password })).status).toBe(401);
  });

  it('logs in with the right password: new cookie and CSRF token, then pages render', async () => {
    const client = new Client(dash.app);
    await client.page('/ui/login');
    const anonymous = { cookie: client.cookie, csrf: client.csrf };
    const res = await client.post('/ui/login', { user: ADMIN.user, password: ADMIN.password, next: '/ui/sync' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui/sync');
    expect(client.cookie).toBeDefined();
    expect(client.cookie).not.toBe(anonymous.cookie);
    const page = await client.page('/ui/flows');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Log out admin');
    expect(client.csrf).not.toBe(anonymous.csrf);
    // The anonymous session's token does not work for the logged-in one.
    expect((await client.post('/ui/sync', {}, { csrf: anonymous.csrf })).status).toBe(403);
  });

  it('sends people back only to dashboard paths after login', async () => {
    for (const next of ['//evil.example/x', 'https://evil.example', '/\\evil.example', '/api/v1/flows/search']) {
      const client = new Client(dash.app);
      await client.page('/ui/login');
      const res = await client.post('/ui/login', { user: ADMIN.user, password: ADMIN.password, next });
      expect(res.headers.get('location'), next).toBe('/ui/flows');
    }
  });

  it('refuses unsafe dashboard requests without a valid CSRF token, by field or header', async () => {
    const client = new Client(dash.app);
    await client.login();
    await client.page('/ui/sync');
    expect((await client.post('/ui/sync', {}, { csrf: false })).status).toBe(403);
    expect((await client.post('/ui/sync', {}, { csrf: 'forged-token' })).status).toBe(403);
    const other = new Client(dash.app);
    await other.login();
    await other.page('/ui/sync');
    expect((await client.post('/ui/sync', {}, { csrf: other.csrf })).status).toBe(403);
    expect((await client.post('/ui/sync', {})).status).toBe(303);
    const header = await client.request('/ui/sync', { method: 'POST', htmx: true, headers: { 'X-CSRF-Token': client.csrf! } });
    expect(header.status).toBe(200);
  });

  it('lets /api/* use the session (CSRF header for unsafe methods) or the bearer token', async () => {
    const client = new Client(dash.app);
    expect((await client.request('/api/v1/flows/search')).status).toBe(401);
    await client.login();
    await client.page('/ui/flows');
    expect((await client.request('/api/v1/flows/search')).status).toBe(200);
    expect((await client.request('/api/v1/sync', { method: 'POST' })).status).toBe(403);
    expect((await client.request('/api/v1/sync', { method: 'POST', headers: { 'X-CSRF-Token': client.csrf! } })).status).toBe(200);
    expect((await dash.app.request('/api/v1/flows/search', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await dash.app.request('/api/v1/flows/search', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    // An anonymous session is no credential while a login is configured.
    const anonymous = new Client(dash.app);
    await anonymous.page('/ui/login');
    expect((await anonymous.request('/api/v1/flows/search')).status).toBe(401);
  });

  it('refuses a tampered cookie', async () => {
    const client = new Client(dash.app);
    await client.login();
    const [payload, signature] = client.cookie!.split('.');
    const data = JSON.parse(Buffer.from(payload, 'base64url').toString());
    client.cookie = `${Buffer.from(JSON.stringify({ ...data, e: data.e + 3600 })).toString('base64url')}.${signature}`;
    expect((await client.request('/ui/flows')).status).toBe(303);
  });

  it('logs out: the cookie is cleared and the old one no longer works', async () => {
    const client = new Client(dash.app);
    await client.login();
    await client.page('/ui/flows');
    const cookie = client.cookie;
    const res = await client.post('/ui/logout', {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui/login');
    expect(client.cookie).toBeUndefined();
    client.cookie = cookie;
    expect((await client.request('/ui/flows')).status).toBe(303);
  });

  it('keeps health, static files, the Git hook and flow webhooks open', async () => {
    expect((await dash.app.request('/healthz')).status).toBe(200);
    expect((await dash.app.request('/static/baton.css')).status).toBe(200);
    const hook = await dash.app.request('/hooks/git', { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'ping' }, body: '{}' });
    // Not behind the API's credentials: the answer is the hook's own verdict (no webhook secret is set here).
    expect(hook.headers.get('WWW-Authenticate')).toBeNull();
    expect((await hook.json()).message).toMatch(/^github webhook refused: no BATON_GIT_WEBHOOK_SECRET/);
    const webhook = await dash.app.request('/api/v1/executions/webhook/company.team/hello/key', { method: 'POST' });
    expect(webhook.status).toBe(404);
    expect((await dash.app.request('/ui/login')).status).toBe(200);
  });
});

describe('dashboard without admin credentials', () => {
  let database: Database;
  const dashboards: Dashboard[] = [];

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    for (const d of dashboards) await d.close();
    await database?.close();
  });

  it('is open on loopback, says so in the header, and still wants CSRF tokens', async () => {
    const dash = await startDashboard({ db: database.db, files: { 'flows/hello.yaml': HELLO_FLOW } });
    dashboards.push(dash);
    const client = new Client(dash.app);
    const page = await client.page('/ui/flows');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Open dashboard: no admin credentials, loopback only');
    expect((await client.request('/ui/login')).headers.get('location')).toBe('/ui/flows');
    expect((await client.post('/ui/sync', {}, { csrf: false })).status).toBe(403);
    expect((await client.post('/ui/sync', {})).status).toBe(303);
    // No credentials at all: the API is open, but not to cross-site browser writes.
    expect((await dash.app.request('/api/v1/flows/search')).status).toBe(200);
    expect((await dash.app.request('/api/v1/sync', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
  });

  it('with only an API token on loopback: the dashboard is open and its session reaches the API', async () => {
    const dash = await startDashboard({ db: database.db, files: { 'flows/hello.yaml': HELLO_FLOW }, apiToken: TOKEN });
    dashboards.push(dash);
    expect((await dash.app.request('/api/v1/flows/search')).status).toBe(401);
    const client = new Client(dash.app);
    await client.page('/ui/flows');
    expect((await client.request('/api/v1/flows/search')).status).toBe(200);
  });

  it('is closed when not on loopback, and the login page says how to configure it', async () => {
    const dash = await startDashboard({ db: database.db, files: { 'flows/hello.yaml': HELLO_FLOW }, apiToken: TOKEN, loopback: false });
    dashboards.push(dash);
    const client = new Client(dash.app);
    const res = await client.request('/ui/flows');
    expect(res.status).toBe(303);
    const login = await client.page('/ui/login');
    expect(login.html).toContain('No dashboard login is configured');
    expect(login.html).not.toContain('Open dashboard');
    expect((await client.post('/ui/login', { user: 'admin', password: '' })).status).toBe(401);
  });
});
