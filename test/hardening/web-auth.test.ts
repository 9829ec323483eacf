/**
 * Issue #12, finding 7: failed logins (420 in 4.1 s) and bad API tokens (500 in 0.4 s) were neither
 * throttled nor logged; logout did not survive a restart; a changed admin password did not end
 * sessions. Now: a lockout per client address after BATON_LIMIT_AUTH_FAILURES failures (no one can
 * lock the admin out from another address, X-Forwarded-For counts only from a trusted proxy), every
 * failure logged without the secret, sessions stored in the database and bound to the credentials.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthThrottle } from '../../server/auth-throttle.ts';
import { dashboardSessions } from '../../db/index.ts';
import { createApp, type ServerDeps } from '../../server/index.ts';
import { createSyncer, FlowStore, syncConfigFromEnv } from '../../sync/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { API_TOKEN, openApiHarness, type ApiHarness } from '../api/harness.ts';

const ADMIN = { user: 'admin', password: 'first-admin-password' };
const SECRET = 'session-secret-kept-across-restarts';
const FAILURES = 5;

type LogLine = { level: string; message: string; data?: unknown };

/** The socket address `app.request()` hands to Baton, as @hono/node-server would. */
const from = (address: string) => ({ incoming: { socket: { remoteAddress: address, remotePort: 40000, remoteFamily: address.includes(':') ? 'IPv6' : 'IPv4' } } });

/** A browser at one address: keeps the session cookie and the page's CSRF token. */
class Browser {
  cookie: string | undefined;
  csrf: string | undefined;
  constructor(private app: Hono, private address: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('cookie', `baton_session=${this.cookie}`);
    const res = await this.app.request(path, { ...init, headers }, from(this.address));
    for (const line of res.headers.getSetCookie()) {
      const match = /^baton_session=([^;]*)/.exec(line);
      if (match) this.cookie = match[1] === '' ? undefined : match[1];
    }
    return res;
  }

  async page(path: string): Promise<{ status: number; html: string }> {
    const res = await this.request(path);
    const html = await res.text();
    const token = /name="csrf" value="([^"]+)"/.exec(html) ?? /"X-CSRF-Token": "([^"]+)"/.exec(html);
    if (token) this.csrf = token[1];
    return { status: res.status, html };
  }

  async post(path: string, fields: Record<string, string>): Promise<Response> {
    const body = new URLSearchParams({ csrf: this.csrf ?? '', ...fields });
    return this.request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  }

  async login(password = ADMIN.password): Promise<Response> {
    await this.page('/ui/login');
    return this.post('/ui/login', { user: ADMIN.user, password, next: '/ui/flows' });
  }
}

describeEachDatabase('authentication hardening', (open) => {
  let h: ApiHarness;
  const logs: LogLine[] = [];
  let dataDir: string;

  /** The same database and engine behind a new app: what a restart of `baton server` gives. */
  const restart = async (deps: Partial<ServerDeps>): Promise<Hono> => {
    const env = { BATON_GIT_URL: 'http://127.0.0.1:9/never-fetched.git', BATON_GIT_BRANCH: 'main', BATON_SYNC_POLL_SECONDS: '0' };
    const config = syncConfigFromEnv(env);
    const syncer = await createSyncer({ db: h.db, config, dataDir, env });
    return createApp({ db: h.db, engine: h.engine, flows: new FlowStore(h.db), syncer, sync: config, branch: 'main', repository: 'test', ...deps });
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'baton-web-auth-'));
    h = await openApiHarness(open, {
      engineEnv: { BATON_LIMIT_AUTH_FAILURES: String(FAILURES) },
      server: { admin: ADMIN, sessionSecret: SECRET, log: (level, message, data) => logs.push({ level, message, data }) },
    });
  });

  it('locks an address out after repeated failed logins — even the right password then — and logs each failure without it', async () => {
    const attacker = new Browser(h.app, '203.0.113.7');
    await attacker.page('/ui/login');
    logs.length = 0;
    for (let i = 1; i <= FAILURES; i++) {
      const res = await attacker.post('/ui/login', { user: ADMIN.user, password: `guess-${i}` });
      expect(res.status, `attempt ${i}`).toBe(401);
    }
    const locked = await attacker.post('/ui/login', { user: ADMIN.user, password: ADMIN.password });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(await locked.text()).toContain('Too many failed logins from your address: try again in 15 minutes.');
    expect((await attacker.page('/ui/flows')).status).toBe(303);

    const failures = logs.filter((l) => l.message === 'dashboard login failed');
    expect(failures.map((l) => l.data)).toEqual(Array.from({ length: FAILURES }, (_, i) => ({ address: '203.0.113.7', failures: i + 1 })));
    expect(logs.some((l) => l.level === 'warn' && /address locked out for 15 minutes after 5 failed attempts/.test(l.message))).toBe(true);
    // Attempts during the lockout are logged once a minute per address, and all counted.
    expect((await attacker.post('/ui/login', { user: ADMIN.user, password: ADMIN.password })).status).toBe(429);
    expect(logs.filter((l) => l.message === 'authentication attempts refused: address locked out')).toHaveLength(1);
    const logged = JSON.stringify(logs);
    for (let i = 1; i <= FAILURES; i++) expect(logged).not.toContain(`guess-${i}`);
    expect(logged).not.toContain(ADMIN.password);
  });

  it('cannot lock the admin out from another address', async () => {
    const admin = new Browser(h.app, '198.51.100.20');
    const res = await admin.login();
    expect(res.status).toBe(303);
    expect((await admin.page('/ui/flows')).html).toContain('Log out admin');
  });

  it('counts an IPv6 host by its /64, so new addresses from the same network do not start over', async () => {
    for (let i = 1; i <= FAILURES; i++) {
      const browser = new Browser(h.app, `2001:db8:1:2::${i.toString(16)}`);
      await browser.page('/ui/login');
      expect((await browser.post('/ui/login', { user: ADMIN.user, password: 'nope' })).status).toBe(401);
    }
    const next = new Browser(h.app, '2001:db8:1:2:ffff::1');
    expect((await next.login()).status).toBe(429);
    expect((await new Browser(h.app, '2001:db8:1:3::1').login()).status).toBe(303);
  });

  it('locks an address out after repeated bad API tokens, and the right token then too; other addresses are served', async () => {
    const api = (token: string, address: string) => h.app.request('/api/v1/flows/search', { headers: { authorization: `Bearer ${token}` } }, from(address));
    logs.length = 0;
    for (let i = 1; i <= FAILURES; i++) expect((await api(`wrong-${i}`, '192.0.2.50')).status).toBe(401);
    const locked = await api(API_TOKEN, '192.0.2.50');
    expect(locked.status).toBe(429);
    expect((await locked.json()).message).toBe('too many failed attempts from your address: try again in 15 minutes');
    expect((await api(API_TOKEN, '192.0.2.51')).status).toBe(200);
    expect(logs.filter((l) => l.message === 'invalid API token')).toHaveLength(FAILURES);
    expect(JSON.stringify(logs)).not.toMatch(/wrong-\d|api-test-token/);
    const metrics = await (await h.app.request('/metrics', { headers: { authorization: `Bearer ${API_TOKEN}` } }, from('192.0.2.51'))).text();
    expect(metrics).toMatch(/^baton_auth_failures_total\{kind="api-token"\} 5$/m);
    expect(metrics).toMatch(/^baton_auth_lockouts_total [1-9]/m);
  });

  it('ignores X-Forwarded-For from anyone but a trusted proxy: a forged header neither hides nor frames an address', async () => {
    const app = await restart({ apiToken: API_TOKEN });
    const api = (address: string, forwarded: string) => app.request('/api/v1/flows/search', { headers: { authorization: 'Bearer wrong', 'x-forwarded-for': forwarded } }, from(address));
    // Each attempt claims another client: all of them count against the socket's address.
    for (let i = 1; i <= FAILURES; i++) expect((await api('192.0.2.60', `10.9.9.${i}`)).status).toBe(401);
    expect((await api('192.0.2.60', '10.9.9.99')).status).toBe(429);
    // The address it named is not locked out.
    expect((await app.request('/api/v1/flows/search', { headers: { authorization: `Bearer ${API_TOKEN}` } }, from('10.9.9.1'))).status).toBe(200);

    const proxied = await restart({ apiToken: API_TOKEN, trustedProxies: ['10.0.0.1'] });
    const viaProxy = (client: string, token = 'wrong') =>
      proxied.request('/api/v1/flows/search', { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': `1.2.3.4, ${client}` } }, from('10.0.0.1'));
    for (let i = 1; i <= FAILURES; i++) expect((await viaProxy('192.0.2.70')).status).toBe(401);
    expect((await viaProxy('192.0.2.70', API_TOKEN)).status).toBe(429);
    // Another client behind the same proxy is not locked out: the proxy's own address is not the key.
    expect((await viaProxy('192.0.2.71', API_TOKEN)).status).toBe(200);
  });

  it('a logout holds across a restart: the old cookie stays dead, its row is gone', async () => {
    const browser = new Browser(h.app, '198.51.100.30');
    expect((await browser.login()).status).toBe(303);
    const cookie = browser.cookie!;
    expect((await browser.page('/ui/flows')).status).toBe(200);
    const rows = async () => (await h.db.select().from(dashboardSessions).where(eq(dashboardSessions.userName, ADMIN.user))).length;
    const before = await rows();
    expect((await browser.post('/ui/logout', {})).status).toBe(303);
    expect(await rows()).toBe(before - 1);

    const restarted = await restart({ admin: ADMIN, sessionSecret: SECRET });
    const replay = new Browser(restarted, '198.51.100.30');
    replay.cookie = cookie;
    expect((await replay.request('/ui/flows')).status).toBe(303);
    expect((await replay.request('/api/v1/flows/search')).status).toBe(401);
  });

  it('a session not logged out survives the restart (the secret is the same)', async () => {
    const browser = new Browser(h.app, '198.51.100.31');
    expect((await browser.login()).status).toBe(303);
    const restarted = await restart({ admin: ADMIN, sessionSecret: SECRET });
    const same = new Browser(restarted, '198.51.100.31');
    same.cookie = browser.cookie;
    expect((await same.page('/ui/flows')).status).toBe(200);
  });

  it('a changed admin password ends every session issued before it', async () => {
    const browser = new Browser(h.app, '198.51.100.32');
    expect((await browser.login()).status).toBe(303);
    const restarted = await restart({ admin: { user: ADMIN.user, password: 'second-admin-password' }, sessionSecret: SECRET });
    const old = new Browser(restarted, '198.51.100.32');
    old.cookie = browser.cookie;
    expect((await old.request('/ui/flows')).status).toBe(303);
    expect((await old.request('/api/v1/flows/search')).status).toBe(401);
    // The new password works, and so would the old sessions again if the old password came back: the
    // binding is to the credentials, nothing else changed.
    const fresh = new Browser(restarted, '198.51.100.32');
    expect((await fresh.login('second-admin-password')).status).toBe(303);
  });
});

describe('the lockout clock', () => {
  it('forgets failures older than the window, and a lockout ends after BATON_LIMIT_AUTH_LOCKOUT_MS', () => {
    let now = 1_000_000;
    const throttle = new AuthThrottle({ authFailures: 3, authLockoutMs: 60_000 }, undefined, () => now);
    throttle.fail('192.0.2.1', 'login');
    throttle.fail('192.0.2.1', 'login');
    now += 60_001;
    // The first two are forgotten: this one starts a new count.
    expect(throttle.fail('192.0.2.1', 'login')).toEqual({ failures: 1, lockedMs: 0 });
    throttle.fail('192.0.2.1', 'login');
    expect(throttle.fail('192.0.2.1', 'api-token')).toEqual({ failures: 3, lockedMs: 60_000 });
    expect(throttle.lockedFor('192.0.2.1')).toEqual({ lockedMs: 60_000, log: true });
    now += 30_000;
    expect(throttle.lockedFor('192.0.2.1')).toEqual({ lockedMs: 30_000, log: false });
    expect(throttle.lockedFor('192.0.2.2').lockedMs).toBe(0);
    now += 30_000;
    expect(throttle.lockedFor('192.0.2.1').lockedMs).toBe(0);
    expect(throttle.counters).toMatchObject({ authFailures: { login: 4, 'api-token': 1 }, lockouts: 1, lockedAttempts: 2 });
  });
});
