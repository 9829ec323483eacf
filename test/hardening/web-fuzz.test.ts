/**
 * Property suite over the whole HTTP surface: every route of the OpenAPI document and every dashboard
 * route of the app's route table gets random path segments (valid ones, any Unicode, NUL, lone
 * surrogates, broken percent-encoding), random query parameters (declared ones with random values,
 * and undeclared ones) and random bodies (JSON, text, bytes, forms) — and must answer below 500,
 * within a deadline, without the server process breaking. The push-webhook parsers get random
 * headers and payloads and must answer a clear error or success, never throw.
 *
 * Runs are bounded (a few dozen per route) so the suite takes seconds; a failure prints fast-check's
 * seed and the shrunk request, to replay with `{ seed, path }`.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import type { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../server/routes/openapi.ts';
import { handlePushWebhook, MAX_WEBHOOK_BODY_BYTES, VERIFIERS } from '../../sync/webhooks/index.ts';
import type { Provider, WebhookRequest } from '../../sync/webhooks/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { API_TOKEN, openApiHarness, type ApiHarness } from '../api/harness.ts';

const NS = 'fuzz.team';
/** Runs per route; FUZZ_RUNS=500 for a deeper search. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
/** A request (and reading its whole body) that takes longer than this is a hang. */
const DEADLINE_MS = 15_000;

const FLOW = `id: hello
namespace: ${NS}
inputs:
  - id: name
    type: STRING
    defaults: world
  - id: count
    type: INT
    required: false
  - id: doc
    type: FILE
    required: false
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: fuzz-key
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.name }}"
`;

/** Values the server knows, so that random requests also reach code past the "not found" checks. */
interface Known {
  namespace: string;
  flowId: string;
  executionId: string;
  taskRunId: string;
  key: string;
}

/** Pieces of a path segment or query value that are not valid percent-encoded UTF-8, inserted raw. */
const RAW_BROKEN = ['%', '%0', '%zz', '%ff', '%E0%A4%A', '%C0%80', '%ED%A0%80', '%00', '%2e%2e', '%2F', '..', '+'];

/** Any text; NUL characters and lone surrogates come often, as they are what breaks a database write. */
const anyText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom('\0', '\uD800', '\uDFFF'), fc.string({ maxLength: 6 })).map((parts) => parts.join('')) },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', '../..', 'A..B', '-', '.', 'company.team', 'ÄÖ', '😀', 'js:alert(1)', '{{ 7 * 7 }}') },
  { weight: 1, arbitrary: fc.oneof(fc.integer().map(String), fc.double().map(String)) },
);

/** UTF-8 percent-encoding of every byte outside the unreserved set (lone surrogates become U+FFFD). */
function encode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** An encoded path segment or query value: encoded text, sometimes with broken encoding spliced in. */
const encodedText = fc.oneof(
  { weight: 4, arbitrary: anyText.map(encode) },
  { weight: 1, arbitrary: fc.tuple(anyText.map(encode), fc.constantFrom(...RAW_BROKEN), anyText.map(encode)).map((parts) => parts.join('')) },
);

/** The known value a path parameter of `template` names, so that a whole path can reach a real resource. */
function realSegment(name: string, template: string, known: Known): string {
  switch (name) {
    case 'namespace':
      return known.namespace;
    case 'flowId':
      return known.flowId;
    case 'executionId':
      return known.executionId;
    case 'key':
      return template.includes('/webhook/') ? 'fuzz-key' : known.key;
    case 'id':
      return /\/flows\//.test(template) ? known.flowId : known.executionId;
    default:
      return known.executionId;
  }
}

/** Path segments: all real (the handler runs with random query and body), or each real or random. */
function segmentsFor(names: string[], template: string, known: Known): fc.Arbitrary<string[]> {
  const real = names.map((name) => encode(realSegment(name, template, known)));
  const each = names.map((name, i) => fc.oneof({ weight: 1, arbitrary: fc.constant(real[i]) }, { weight: 2, arbitrary: encodedText }));
  return fc.oneof({ weight: 1, arbitrary: fc.constant(real) }, { weight: 2, arbitrary: fc.tuple(...each) });
}

type Schema = { type?: string | string[]; format?: string; enum?: unknown[]; items?: Schema };

function valueFor(schema: Schema | undefined, known: Known): fc.Arbitrary<string> {
  const typed: fc.Arbitrary<string>[] = [];
  if (schema?.type === 'integer') {
    typed.push(fc.integer({ min: -3, max: 30 }).map(String), fc.constantFrom('0', '-1', '1e20', '0x10', ' 7', '2147483647', '2147483648', '99999999999999999999', '1.5', 'NaN'));
  }
  if (schema?.type === 'boolean') typed.push(fc.constantFrom('true', 'false', 'TRUE', '1'));
  if (schema?.format === 'date-time') {
    typed.push(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('2024-02-30T00:00:00Z', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z', '0', 'yesterday'));
  }
  const values = schema?.enum ?? schema?.items?.enum;
  if (values) typed.push(fc.constantFrom(...values.map(String)), fc.constantFrom(...values.map((v) => String(v).toLowerCase())));
  typed.push(fc.constantFrom(known.executionId, known.taskRunId, `kestra:///${NS.replace('.', '/')}/hello/executions/${known.executionId}/inputs/doc/x.txt`, 'kestra:///etc/passwd', '/', 'k1:v1', 'a:b', '/a/../../b'));
  return fc.oneof({ weight: 2, arbitrary: fc.oneof(...typed).map(encode) }, { weight: 2, arbitrary: encodedText });
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema?: Schema;
}

interface Body {
  contentType?: string;
  body?: BodyInit;
  describe: string;
}

/** A body of any kind: JSON (NUL characters included), text, raw bytes, a form, a multipart upload. */
const anyBody: fc.Arbitrary<Body> = fc.oneof(
  fc.constant<Body>({ describe: 'no body' }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => ({ contentType: 'application/json', body: JSON.stringify(v), describe: `json ${JSON.stringify(v).slice(0, 80)}` })),
  fc.dictionary(fc.constantFrom('name', 'count', 'namespace', 'flowId', 'triggerId', 'disabled', 'backfill', 'a\0', 'user'), fc.oneof(anyText, fc.jsonValue({ maxDepth: 2 })), { maxKeys: 5 })
    .map((o) => ({ contentType: 'application/json', body: JSON.stringify(o), describe: `json object ${JSON.stringify(o).slice(0, 80)}` })),
  fc.constantFrom('{', '[1,', '"\\u0000"', '{"a":"\\u0000"}', '{"a\\u0000":1}', 'a\u0000b', '{"namespace":"a\\u0000","flowId":"b","triggerId":"c"}', '{"namespace":"fuzz.team","flowId":"hello","triggerId":"nightly","backfill":{"start":"+275760-01-01T00:00:00Z"}}')
    .map((text) => ({ contentType: 'application/json', body: text, describe: `json text ${text}` })),
  anyText.map((text) => ({ contentType: 'text/plain', body: text, describe: `text ${JSON.stringify(text)}` })),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ contentType: 'application/octet-stream', body: Buffer.from(bytes), describe: `${bytes.length} bytes` })),
  fc.dictionary(fc.constantFrom('name', 'count', 'namespace', 'key', 'taskRunId', 'start', 'end', 'user', 'password', 'next'), anyText, { maxKeys: 4 })
    .map((o) => ({ contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams(o).toString(), describe: `form ${JSON.stringify(o)}` })),
  fc.tuple(anyText, fc.uint8Array({ maxLength: 32 })).map(([text, bytes]) => {
    const form = new FormData();
    form.set('name', text);
    form.set('doc', new Blob([Buffer.from(bytes)]), 'doc.bin');
    return { body: form, describe: `multipart name=${JSON.stringify(text)}` };
  }),
  fc.constantFrom('--x\r\nbroken', '').map((text) => ({ contentType: 'multipart/form-data; boundary=x', body: text, describe: `broken multipart ${JSON.stringify(text)}` })),
);

const SAFE_HEADER = fc.string({ unit: 'binary-ascii', maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));

/** One request: a path built from the route's template, a query, headers, a body. */
function requestFor(template: string, parameters: Parameter[], known: Known, withBody: boolean) {
  const pathNames = [...template.matchAll(/\{(\w+)\}|:(\w+)/g)].map((m) => m[1] ?? m[2]);
  const query = parameters.filter((p) => p.in === 'query');
  const headers = parameters.filter((p) => p.in === 'header');
  return fc.record({
    segments: segmentsFor(pathNames, template, known),
    query: fc.array(
      fc.oneof(
        ...(query.length ? [fc.constantFrom(...query).chain((p) => valueFor(p.schema, known).map((v) => `${p.name}=${v}`))] : []),
        fc.tuple(encodedText, encodedText).map(([k, v]) => `${k}=${v}`),
        fc.constantFrom(...RAW_BROKEN),
      ),
      { maxLength: 4 },
    ),
    headers: fc.array(fc.tuple(fc.constantFrom(...(headers.length ? headers.map((h) => h.name) : ['x-fuzz']), 'Last-Event-ID', 'ttl', 'type'), SAFE_HEADER), { maxLength: 3 }),
    body: withBody ? anyBody : fc.constant<Body>({ describe: 'no body' }),
  }).map(({ segments, query: pairs, headers: extra, body }) => {
    let i = 0;
    const path = template.replace(/\{(\w+)\}|:(\w+)/g, () => segments[i++]);
    return { path: pairs.length ? `${path}?${pairs.join('&')}` : path, headers: extra, body };
  });
}

async function withDeadline<T>(promise: Promise<T> | T, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${DEADLINE_MS} ms: ${what}`)), DEADLINE_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The dashboard's cookie and CSRF token, so random dashboard POSTs get past the CSRF check to the handlers. */
async function dashboardSession(app: Hono): Promise<{ cookie: string; csrf: string }> {
  const res = await app.request('/ui/flows');
  const cookie = /baton_session=([^;]+)/.exec(res.headers.getSetCookie().join('\n'))![1];
  const csrf = /"X-CSRF-Token": "([^"]+)"/.exec(await res.text())![1];
  return { cookie, csrf };
}

describeEachDatabase('web fuzz: every route', (open) => {
  let h: ApiHarness;
  let known: Known;
  let session: { cookie: string; csrf: string };

  beforeAll(async () => {
    h = await openApiHarness(open);
    await h.publish(FLOW);
    const started = await (await h.api(`/api/v1/executions/${NS}/hello?wait=true`, { method: 'POST' })).json();
    await h.api(`/api/v1/namespaces/${NS}/kv/k1`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'v' });
    known = { namespace: NS, flowId: 'hello', executionId: started.id, taskRunId: started.taskRunList[0].id, key: 'k1' };
    session = await dashboardSession(h.app);
  });

  const send = async (method: string, request: { path: string; headers: [string, string][]; body: Body }, auth: 'api' | 'dashboard') => {
    const headers = new Headers(request.headers);
    if (request.body.contentType) headers.set('content-type', request.body.contentType);
    if (auth === 'api') headers.set('authorization', `Bearer ${API_TOKEN}`);
    else {
      headers.set('cookie', `baton_session=${session.cookie}`);
      headers.set('X-CSRF-Token', session.csrf);
    }
    const what = `${method} ${request.path} (${request.body.describe})`;
    const init: RequestInit = { method, headers };
    if (request.body.body !== undefined && method !== 'GET' && method !== 'HEAD') init.body = request.body.body;
    const res = await withDeadline(h.app.request(request.path, init), what);
    const text = await withDeadline(res.text(), `reading the answer of ${what}`);
    expect(res.status, `${what} → ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500);
  };

  const operations = Object.entries(openApiDocument().paths as Record<string, Record<string, { parameters?: Parameter[]; requestBody?: unknown }>>).flatMap(
    ([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );

  it('covers every route of the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThan(30);
  });

  for (const { path, method, op } of operations) {
    it(`${method} ${path}`, async () => {
      await fc.assert(
        fc.asyncProperty(requestFor(path, op.parameters ?? [], known, method !== 'GET'), (request) => send(method, request, 'api')),
        { numRuns: RUNS },
      );
    });
  }

  it('every dashboard route of the app', async () => {
    const routes = [...new Map(h.app.routes.filter((r) => (r.method === 'GET' || r.method === 'POST') && /^\/(ui|static)\//.test(r.path)).map((r) => [`${r.method} ${r.path}`, r])).values()];
    expect(routes.length).toBeGreaterThan(15);
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(requestFor(route.path, [{ name: 'page', in: 'query', schema: { type: 'integer' } }, { name: 'size', in: 'query', schema: { type: 'integer' } }, { name: 'from', in: 'query', schema: { format: 'date-time' } }, { name: 'path', in: 'query' }, { name: 'namespace', in: 'query' }, { name: 'level', in: 'query' }, { name: 'beforeId', in: 'query', schema: { type: 'integer' } }], known, route.method === 'POST'), (request) => send(route.method, request, 'dashboard')),
        { numRuns: 10 },
      );
    }
  });
});

const SECRET = 'fuzz-secret';
const PROVIDER_HEADERS: Record<Provider, (body: Buffer) => Record<string, string>> = {
  github: (body) => ({ 'x-github-event': 'push', 'x-github-delivery': 'd', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` }),
  gitea: (body) => ({ 'x-gitea-event': 'push', 'x-gitea-delivery': 'd', 'x-gitea-signature': createHmac('sha256', SECRET).update(body).digest('hex') }),
  gitlab: () => ({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRET, 'x-gitlab-event-uuid': 'd' }),
  bitbucket: (body) => ({ 'x-event-key': 'repo:push', 'x-request-uuid': 'd', 'x-hub-signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` }),
};

/** A payload: valid-looking push JSON with random fields, any JSON, or raw bytes. */
const payload = fc.oneof(
  fc.record({
    ref: fc.oneof(fc.constant('refs/heads/main'), anyText, fc.jsonValue({ maxDepth: 1 })),
    after: fc.oneof(fc.constant('a'.repeat(40)), fc.constant('0'.repeat(40)), anyText, fc.jsonValue({ maxDepth: 1 })),
    checkout_sha: fc.oneof(anyText, fc.constant(undefined)),
    event_name: fc.constantFrom('push', 'tag_push', 'other', undefined),
    push: fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ changes: fc.array(fc.record({ new: fc.oneof(fc.constant(null), fc.record({ type: fc.constantFrom('branch', 'tag', 3), name: fc.oneof(fc.constant('main'), anyText), target: fc.jsonValue({ maxDepth: 1 }) })), old: fc.jsonValue({ maxDepth: 1 }) }), { maxLength: 3 }) }),
    ),
  }, { requiredKeys: [] }).map((o) => Buffer.from(JSON.stringify(o))),
  fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.uint8Array({ maxLength: 128 }).map((b) => Buffer.from(b)),
  anyText.map((t) => Buffer.from(`payload=${encode(t)}`)),
);

describe('web fuzz: push-webhook parsers', () => {
  it('every verifier reads any headers and payload into an event or an error, without throwing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(Object.keys(VERIFIERS) as Provider[])),
        payload,
        fc.dictionary(fc.constantFrom('content-type', 'x-github-event', 'x-gitea-event', 'x-gitlab-event', 'x-event-key', 'x-hub-signature-256', 'x-hub-signature', 'x-gitlab-token', 'x-github-delivery'), SAFE_HEADER, { maxKeys: 4 }),
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'),
        async (provider, rawBody, extra, contentType) => {
          const request: WebhookRequest = { headers: { ...PROVIDER_HEADERS[provider](rawBody), 'content-type': contentType, ...extra }, rawBody };
          const verifier = VERIFIERS[provider];
          expect(typeof verifier.detect(request.headers)).toBe('boolean');
          const verdict = verifier.verify(request, SECRET);
          expect(verdict.ok === true || typeof (verdict as { error: string }).error === 'string').toBe(true);
          const event = verifier.parse(request);
          if ('error' in event) expect(event.error).toMatch(/\S/);
          else expect(['ping', 'push', 'other']).toContain(event.kind);

          const recorded: unknown[] = [];
          for (const config of [{ secret: SECRET, branch: 'main' }, { branch: 'main', allowUnsigned: true }, { branch: 'main' }]) {
            const answer = await handlePushWebhook(request, config, async (r) => {
              recorded.push(r);
              return 'recorded';
            });
            expect([200, 202, 400, 401, 413]).toContain(answer.status);
            expect(answer.body.message).toMatch(/\S/);
            expect(JSON.stringify(answer)).not.toContain(SECRET);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a body over the cap is a 413 whatever it holds', async () => {
    const answer = await handlePushWebhook({ headers: PROVIDER_HEADERS.github(Buffer.alloc(0)), rawBody: Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1) }, { secret: SECRET, branch: 'main' }, async () => 'recorded');
    expect(answer.status).toBe(413);
  });
});
