/**
 * Issue #12, finding 8 (headers): no CSP, X-Frame-Options, nosniff or Referrer-Policy. Every answer —
 * page, fragment, JSON, error, static file, event stream, redirect — now carries them; the policy
 * allows no inline script and no eval, and the views hold nothing that would need either.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../server/security-headers.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { openApiHarness, type ApiHarness } from '../api/harness.ts';

const VIEWS = join(import.meta.dirname, '..', '..', 'views');

const FLOW = `id: hello
namespace: web.headers
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hi
`;

function expectSecurityHeaders(res: Response, what: string): void {
  expect(res.headers.get('content-security-policy'), what).toBe(CONTENT_SECURITY_POLICY);
  expect(res.headers.get('x-frame-options'), what).toBe('DENY');
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('referrer-policy'), what).toBe('same-origin');
}

describe('the Content-Security-Policy', () => {
  it('takes scripts from Baton only: no inline script, no eval, no framing', () => {
    const directives = Object.fromEntries(CONTENT_SECURITY_POLICY.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['base-uri']).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(directives['script-src']).not.toContain("'unsafe-inline'");
    expect(directives['style-src']).not.toContain("'unsafe-inline'");
  });

  it('matches the views: every script is a file, no event-handler attribute, no htmx code (hx-on, js:)', async () => {
    const files = (await readdir(VIEWS, { recursive: true })).filter((f) => f.endsWith('.njk'));
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      // Template comments ({# … #}) never reach the browser.
      const text = (await readFile(join(VIEWS, file), 'utf8')).replace(/\{#[\s\S]*?#\}/g, '');
      for (const tag of text.match(/<script\b[^>]*>/gi) ?? []) expect(tag, file).toMatch(/\ssrc="\/static\/[\w.-]+\.js"/);
      expect(text, file).not.toMatch(/\son[a-z]+\s*=/i);
      expect(text, file).not.toMatch(/hx-on|="\s*(js|javascript):/i);
      expect(text, file).not.toMatch(/<style\b/i);
    }
  });
});

describeEachDatabase('security headers on every answer', (open) => {
  let h: ApiHarness;
  let executionId: string;

  beforeAll(async () => {
    h = await openApiHarness(open);
    await h.publish(FLOW);
    executionId = (await (await h.api('/api/v1/executions/web.headers/hello?wait=true', { method: 'POST' })).json()).id;
  });

  it('pages, fragments, JSON, errors, static files, event streams, redirects and refusals', async () => {
    const cases: [string, () => Promise<Response> | Response][] = [
      ['dashboard page', () => h.app.request('/ui/flows')],
      ['htmx fragment', () => h.app.request('/ui/flows', { headers: { 'HX-Request': 'true' } })],
      ['redirect', () => h.app.request('/')],
      ['API JSON', () => h.api('/api/v1/flows/search')],
      ['API 404', () => h.api('/api/v1/executions/nope')],
      ['no route', () => h.api('/api/v1/nothing-here')],
      ['401', () => h.app.request('/api/v1/flows/search')],
      ['400', () => h.api('/api/v1/executions/search?page=%00')],
      ['421', () => h.api('/api/v1/flows/search', { headers: { host: 'evil.example' } })],
      ['413', () => h.api('/api/v1/flows/validate', { method: 'POST', headers: { 'content-length': String(1024 ** 3) }, body: 'x' })],
      ['static script', () => h.app.request('/static/htmx.min.js')],
      ['static stylesheet', () => h.app.request('/static/baton.css')],
      ['event stream', () => h.api(`/api/v1/executions/${executionId}/follow`)],
      ['health', () => h.app.request('/healthz')],
      ['flow webhook 404', () => h.app.request('/api/v1/executions/webhook/web.headers/hello/nope', { method: 'POST' })],
      ['git hook', () => h.app.request('/hooks/git', { method: 'POST', headers: { 'x-github-event': 'ping' }, body: '{}' })],
    ];
    for (const [what, send] of cases) {
      const res = await send();
      await res.arrayBuffer();
      expectSecurityHeaders(res, what);
    }
  });
});
