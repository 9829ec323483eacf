/**
 * Issue #12, finding 6: DNS rebinding against the loopback-only mode. A page on evil.example whose
 * name is made to resolve to 127.0.0.1 reaches Baton with `Host: evil.example` and, for a same-origin
 * fetch, no cross-site Sec-Fetch-Site — so the open API answered it. Now a Host that is not allowed
 * is refused (421), and a write whose Origin (or Referer) is another site is refused (403).
 */
import { request as httpRequest } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/index.ts';
import { hostPolicyFromEnv, HostConfigError } from '../../server/host-guard.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createRepo, startGitServer, type GitServer } from '../support/git-server.ts';
import { openApiHarness, type ApiHarness } from '../api/harness.ts';

const FLOW = `id: hello
namespace: web.host
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: host-key
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hi
`;

describeEachDatabase('Host and Origin checks', (open) => {
  /** The app as Baton runs without any credential: loopback only, API and dashboard open. */
  let h: ApiHarness;

  beforeAll(async () => {
    h = await openApiHarness(open, { server: { apiToken: undefined } });
    await h.publish(FLOW);
  });

  it('refuses a rebinding page: Host evil.example without Sec-Fetch-Site gets 421 on reads and writes', async () => {
    const app = h.app;
    for (const [method, path] of [['GET', '/api/v1/flows/search'], ['POST', '/api/v1/sync'], ['GET', '/ui/flows'], ['POST', '/api/v1/executions/web.host/hello']]) {
      const res = await app.request(path, { method, headers: { host: 'evil.example' } });
      expect(res.status, `${method} ${path}`).toBe(421);
      const body = await res.json();
      expect(body.message).toContain("host 'evil.example'");
      expect(body.message).toContain('BATON_ALLOWED_HOSTS');
    }
    for (const host of ['evil.example:8080', 'localhost.evil.example', '127.0.0.1.nip.io', 'localhost@evil.example', '[::2]:8080']) {
      expect((await app.request('/api/v1/flows/search', { headers: { host } })).status, host).toBe(421);
    }
  });

  it('answers the loopback names with any port, and /healthz whatever the Host (probes use an IP)', async () => {
    for (const host of ['localhost', 'localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'LOCALHOST:1']) {
      expect((await h.api('/api/v1/flows/search', { headers: { host } })).status, host).toBe(200);
    }
    const health = await h.app.request('/healthz', { headers: { host: '10.1.2.3:8080' } });
    expect(health.status).toBe(200);
  });

  it('refuses writes whose Origin or Referer is another site — another local port included — with 403', async () => {
    const write = (headers: Record<string, string>) => h.api('/api/v1/sync', { method: 'POST', headers });
    for (const origin of ['http://localhost:3000', 'http://evil.example', 'null', 'https://localhost.evil.example', 'file://']) {
      const res = await write({ origin });
      expect(res.status, origin).toBe(403);
      expect((await res.json()).message).toMatch(/^cross-origin POST refused: Origin/);
    }
    expect((await write({ referer: 'http://evil.example/page' })).status).toBe(403);
    // Its own origin (any scheme: a TLS proxy may sit in front), or no browser at all.
    expect((await write({ origin: 'http://localhost' })).status).toBe(200);
    expect((await write({ origin: 'https://localhost' })).status).toBe(200);
    expect((await write({ origin: 'http://localhost', host: 'localhost:80' })).status).toBe(200);
    expect((await write({ referer: 'http://localhost/ui/sync' })).status).toBe(200);
    expect((await write({})).status).toBe(200);
    // Reads are not writes: the browser's same-origin policy keeps their answers from other sites.
    expect((await h.api('/api/v1/flows/search', { headers: { origin: 'http://evil.example' } })).status).toBe(200);
  });

  it('lets writes with their own credential through from any origin: flow webhooks and the Git hook', async () => {
    const webhook = await h.app.request('/api/v1/executions/webhook/web.host/hello/host-key', { method: 'POST', headers: { origin: 'https://forms.example' } });
    expect(webhook.status).toBe(200);
    const hook = await h.app.request('/hooks/git', { method: 'POST', headers: { origin: 'https://github.com', 'x-github-event': 'ping' }, body: '{}' });
    expect(hook.status).not.toBe(403);
  });
});

describe('the host policy from the environment', () => {
  it('loopback: the loopback names, BATON_HOST and the host of BATON_PUBLIC_URL', () => {
    const policy = hostPolicyFromEnv({ BATON_PUBLIC_URL: 'https://Baton.Example.com:8443/base' }, { host: '127.0.0.1', loopback: true });
    expect(policy.hosts).toEqual(new Set(['localhost', '127.0.0.1', '::1', 'baton.example.com']));
    expect(policy.origins).toEqual(new Set(['https://baton.example.com:8443']));
    expect(hostPolicyFromEnv({}, { host: '::1', loopback: true }).hosts).toEqual(new Set(['localhost', '127.0.0.1', '::1']));
  });

  it('another address (credentials required there): any Host unless BATON_PUBLIC_URL or BATON_ALLOWED_HOSTS names them', () => {
    expect(hostPolicyFromEnv({}, { host: '0.0.0.0', loopback: false }).hosts).toBe('any');
    expect(hostPolicyFromEnv({ BATON_PUBLIC_URL: 'https://baton.example.com' }, { host: '0.0.0.0', loopback: false }).hosts).toEqual(
      new Set(['localhost', '127.0.0.1', '::1', 'baton.example.com']),
    );
    expect(hostPolicyFromEnv({ BATON_ALLOWED_HOSTS: 'baton.internal, 10.0.0.5 ,[fd00::1]' }, { host: '0.0.0.0', loopback: false }).hosts).toEqual(
      new Set(['localhost', '127.0.0.1', '::1', 'baton.internal', '10.0.0.5', 'fd00::1']),
    );
    expect(hostPolicyFromEnv({ BATON_ALLOWED_HOSTS: '*' }, { host: '127.0.0.1', loopback: true }).hosts).toBe('any');
  });

  it('refuses values it cannot read, naming the variable', () => {
    expect(() => hostPolicyFromEnv({ BATON_PUBLIC_URL: 'baton.example.com' }, { host: '127.0.0.1', loopback: true })).toThrow(HostConfigError);
    expect(() => hostPolicyFromEnv({ BATON_PUBLIC_URL: 'ftp://baton.example.com' }, { host: '127.0.0.1', loopback: true })).toThrow(/BATON_PUBLIC_URL/);
    expect(() => hostPolicyFromEnv({ BATON_ALLOWED_HOSTS: 'https://baton.example.com' }, { host: '127.0.0.1', loopback: true })).toThrow(/BATON_ALLOWED_HOSTS/);
  });
});

/** A raw HTTP request, so that the Host header is exactly what a rebinding browser would send. */
function rawRequest(url: string, options: { method?: string; host: string; headers?: Record<string, string> }): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname: target.hostname, port: target.port, path: target.pathname, method: options.method ?? 'GET', headers: { host: options.host, ...options.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a real server on loopback without credentials', () => {
  let git: GitServer;
  let server: RunningServer;

  beforeAll(async () => {
    git = await startGitServer();
    const repo = await createRepo(git, 'web-host', { 'flows/hello.yaml': FLOW });
    server = await startServer({ dataDir: await mkdtemp(join(tmpdir(), 'baton-web-host-')), port: 0, quiet: true, env: { BATON_GIT_URL: repo.url, BATON_SYNC_POLL_SECONDS: '0' } });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await git?.close();
  });

  it('refuses a request for another host name over a socket (421), answers its own, and /healthz for any', async () => {
    const port = new URL(server.url).port;
    const rebound = await rawRequest(`${server.url}/api/v1/sync`, { method: 'POST', host: `evil.example:${port}` });
    expect(rebound.status).toBe(421);
    expect(rebound.body).toContain("host 'evil.example:");
    expect((await rawRequest(`${server.url}/api/v1/flows/search`, { host: `localhost:${port}` })).status).toBe(200);
    expect((await rawRequest(`${server.url}/healthz`, { host: 'probe.internal' })).status).toBe(200);
  });
});
