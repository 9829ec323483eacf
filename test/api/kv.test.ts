import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { jsonBody, openApiHarness, type ApiHarness } from './harness.ts';

const NS = 'api.kv';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeEachDatabase('KV API', (open) => {
  let h: ApiHarness;
  const url = (key: string, namespace = NS) => `/api/v1/namespaces/${namespace}/kv/${key}`;
  const put = (key: string, init: RequestInit) => h.api(url(key), { method: 'PUT', ...init });
  const get = async (key: string) => {
    const res = await h.api(url(key));
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    h = await openApiHarness(open);
  });

  it.each<[string, RequestInit, { type: string; value: unknown }]>([
    ['a JSON number', jsonBody(42.5, 'PUT'), { type: 'NUMBER', value: 42.5 }],
    ['a JSON boolean', jsonBody(false, 'PUT'), { type: 'BOOLEAN', value: false }],
    ['a JSON string', jsonBody('hello', 'PUT'), { type: 'STRING', value: 'hello' }],
    ['a JSON object', jsonBody({ a: [1, { b: null }] }, 'PUT'), { type: 'JSON', value: { a: [1, { b: null }] } }],
    ['a JSON array', jsonBody(['x', 2], 'PUT'), { type: 'JSON', value: ['x', 2] }],
    ['text/plain that looks like a number', { body: '007', headers: { 'content-type': 'text/plain' } }, { type: 'STRING', value: '007' }],
    ['text/plain with JSON in it', { body: '{"a":1}', headers: { 'content-type': 'text/plain; charset=utf-8' } }, { type: 'STRING', value: '{"a":1}' }],
    ['a DATETIME by the type header', { ...jsonBody('2024-05-01T14:00:00+02:00', 'PUT'), headers: { 'content-type': 'application/json', type: 'DATETIME' } }, { type: 'DATETIME', value: '2024-05-01T12:00:00.000Z' }],
    ['a DURATION by the type header', { body: 'pt1h', headers: { 'content-type': 'text/plain', type: 'duration' } }, { type: 'DURATION', value: 'PT1H' }],
  ])('PUT %s, GET gives it back typed', async (_, init, expected) => {
    const key = `k${Math.random().toString(36).slice(2, 10)}`;
    const res = await put(key, { method: 'PUT', ...init });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ key, ...expected });
    expect(await get(key)).toEqual({ status: 200, body: expected });
  });

  it('lists keys with type, description, expiration and update dates, but no values', async () => {
    const namespace = 'api.kv.list';
    await h.api(url('beta', namespace), { method: 'PUT', body: 'b', headers: { 'content-type': 'text/plain', description: 'the second' } });
    await h.api(url('alpha', namespace), { method: 'PUT', body: '1', headers: { 'content-type': 'application/json', ttl: 'PT1H' } });
    const res = await h.api(`/api/v1/namespaces/${namespace}/kv`);
    expect(res.status).toBe(200);
    const list = await res.json();
    expect(list.map((e: { key: string }) => e.key)).toEqual(['alpha', 'beta']);
    expect(list[0]).toEqual({ key: 'alpha', type: 'NUMBER', description: null, expirationDate: expect.any(String), updateDate: expect.any(String) });
    expect(list[1]).toEqual({ key: 'beta', type: 'STRING', description: 'the second', expirationDate: null, updateDate: expect.any(String) });
    const ttl = Date.parse(list[0].expirationDate) - Date.parse(list[0].updateDate);
    expect(ttl).toBe(3_600_000);
    expect(Math.abs(Date.parse(list[1].updateDate) - Date.now())).toBeLessThan(60_000);
    // Another namespace is another store.
    expect(await (await h.api('/api/v1/namespaces/api.kv.empty/kv')).json()).toEqual([]);
  });

  it('a value past its ttl is gone: GET 404, absent from the list', async () => {
    expect((await put('brief', { body: 'soon gone', headers: { 'content-type': 'text/plain', ttl: 'PT0.3S' } })).status).toBe(200);
    expect((await get('brief')).status).toBe(200);
    await sleep(450);
    expect(await get('brief')).toEqual({ status: 404, body: { message: `no value found for key 'brief' in namespace '${NS}'`, details: null } });
    const keys = (await (await h.api(`/api/v1/namespaces/${NS}/kv`)).json()).map((e: { key: string }) => e.key);
    expect(keys).not.toContain('brief');
  });

  it('PUT replaces; DELETE removes (true), then 404', async () => {
    await put('swap', jsonBody(1, 'PUT'));
    await put('swap', jsonBody({ now: 'json' }, 'PUT'));
    expect((await get('swap')).body).toEqual({ type: 'JSON', value: { now: 'json' } });
    const deleted = await h.api(url('swap'), { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toBe(true);
    expect((await get('swap')).status).toBe(404);
    const again = await h.api(url('swap'), { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ message: `no value found for key 'swap' in namespace '${NS}'`, details: null });
  });

  it.each<[string, string, RequestInit, number, RegExp]>([
    ['an invalid key', '-bad', jsonBody(1, 'PUT'), 400, /invalid KV key '-bad'/],
    ['an invalid ttl', 'ok', { body: 'x', headers: { 'content-type': 'text/plain', ttl: 'one hour' } }, 400, /invalid ttl 'one hour'/],
    ['a value that does not fit its type', 'ok', { body: 'abc', headers: { 'content-type': 'text/plain', type: 'NUMBER' } }, 400, /invalid NUMBER value .* expected a finite number, got 'abc'/],
    ['an unknown type', 'ok', { body: 'abc', headers: { 'content-type': 'text/plain', type: 'FLOAT' } }, 400, /header 'type' must be one of STRING, NUMBER/],
    ['broken JSON', 'ok', { body: '{"a":', headers: { 'content-type': 'application/json' } }, 400, /not valid JSON/],
    ['an unsupported content type', 'ok', { body: 'x', headers: { 'content-type': 'application/octet-stream' } }, 415, /application\/json or text\/plain/],
  ])('PUT refuses %s', async (_, key, init, status, message) => {
    const res = await put(key, init);
    expect(res.status).toBe(status);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(['details', 'message']);
    expect(body.message).toMatch(message);
    expect((await get(key)).status).toBe(key === '-bad' ? 400 : 404);
  });
});
