/**
 * Request and Download against a real node:http server on 127.0.0.1 (never anything else).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TaskFailure, type TaskPlugin } from '../types.ts';
import { createTempDirTaskContext, type TempDirTaskContext } from '../../scripts/temp-dir-task-context.ts';
import { httpRequest } from './http-request.ts';
import { httpDownload, fileNameOf } from './http-download.ts';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

let server: http.Server;
let base: string;
const routes = new Map<string, Handler>();
const received: Received[] = [];

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    const handler = routes.get(new URL(req.url!, 'http://x').pathname);
    if (handler) handler(req, res, body);
    else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not here');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const open: Array<TempDirTaskContext<unknown>> = [];
afterEach(async () => {
  routes.clear();
  received.length = 0;
  await Promise.all(open.splice(0).map((t) => t.cleanup()));
});

async function run(plugin: TaskPlugin, props: Record<string, unknown>, during?: (t: TempDirTaskContext<unknown>) => void) {
  const t = await createTempDirTaskContext<unknown>(props);
  open.push(t);
  during?.(t);
  const result = (await plugin.run(t.ctx)) as { outputs: Record<string, any>; metrics?: unknown[] };
  return { t, result };
}

async function failure(plugin: TaskPlugin, props: Record<string, unknown>, during?: (t: TempDirTaskContext<unknown>) => void) {
  const t = await createTempDirTaskContext<unknown>(props);
  open.push(t);
  during?.(t);
  const error = await plugin.run(t.ctx).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TaskFailure);
  return { t, error: error as TaskFailure };
}

describe('core.http.Request', () => {
  it('returns code, body, uri and headers as lists, repeated headers included', async () => {
    routes.set('/json', (_req, res) => {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('Content-Type', 'application/json');
      res.end('{"ok":true}');
    });
    const { result } = await run(httpRequest, { uri: `${base}/json?x=1` });
    expect(result.outputs.code).toBe(200);
    expect(result.outputs.body).toBe('{"ok":true}');
    expect(result.outputs.uri).toBe(`${base}/json?x=1`);
    expect(result.outputs.headers['Set-Cookie']).toEqual(['a=1', 'b=2']);
    expect(result.outputs.headers['Content-Type']).toEqual(['application/json']);
    expect(received[0].method).toBe('GET');
    // Kestra sends its default contentType even without a body.
    expect(received[0].headers['content-type']).toBe('application/json');
  });

  it('sends a body with its content type and charset, and the given headers', async () => {
    routes.set('/echo', (_req, res, body) => res.end(body));
    const { result } = await run(httpRequest, {
      uri: `${base}/echo`,
      method: 'post',
      body: '{"title":"Kestra Pen é"}',
      headers: { 'X-Trace': 'abc', 'user-agent': 'custom-agent' },
    });
    expect(result.outputs.body).toBe('{"title":"Kestra Pen é"}');
    expect(received[0].method).toBe('POST');
    expect(received[0].headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(received[0].headers['content-length']).toBe(String(Buffer.byteLength('{"title":"Kestra Pen é"}')));
    expect(received[0].headers['x-trace']).toBe('abc');
    expect(received[0].headers['user-agent']).toBe('custom-agent');
  });

  it('sends formData URL-encoded by default', async () => {
    routes.set('/form', (_req, res) => res.end('ok'));
    await run(httpRequest, { uri: `${base}/form`, method: 'POST', formData: { user: 'John Doe', n: 3 } });
    expect(received[0].headers['content-type']).toBe('application/x-www-form-urlencoded; charset=UTF-8');
    expect(received[0].body.toString()).toBe('user=John+Doe&n=3');
  });

  it('sends multipart form data with files from internal storage', async () => {
    routes.set('/upload', (_req, res) => res.end('ok'));
    const t = await createTempDirTaskContext<unknown>({});
    open.push(t);
    const fileUri = await t.putStorageFile('report.csv', 'a,b\n1,2\n');
    t.ctx.props = {
      uri: `${base}/upload`,
      method: 'POST',
      contentType: 'multipart/form-data',
      formData: { user: 'John', file: fileUri, named: { name: 'renamed.txt', content: fileUri } },
    };
    await httpRequest.run(t.ctx as never);
    const contentType = received[0].headers['content-type']!;
    const boundary = /boundary=(.+)$/.exec(contentType)![1];
    const text = received[0].body.toString();
    expect(contentType.startsWith('multipart/form-data; boundary=')).toBe(true);
    expect(text).toContain(`--${boundary}\r\nContent-Disposition: form-data; name="user"\r\n\r\nJohn\r\n`);
    expect(text).toContain('Content-Disposition: form-data; name="file"; filename="report.csv"\r\nContent-Type: application/octet-stream\r\n\r\na,b\n1,2\n\r\n');
    expect(text).toContain('name="named"; filename="renamed.txt"');
    expect(text.endsWith(`--${boundary}--\r\n`)).toBe(true);
  });

  it('fails on a code ≥ 400 with the body in the message, unless allowFailed', async () => {
    const { error } = await failure(httpRequest, { uri: `${base}/missing` });
    expect(error.message).toBe("Failed http request with response code '404' and body:\nnot here");
    const { result } = await run(httpRequest, { uri: `${base}/missing`, options: { allowFailed: true } });
    expect(result.outputs.code).toBe(404);
    expect(result.outputs.body).toBe('not here');
    const legacy = await run(httpRequest, { uri: `${base}/missing`, allowFailed: 'true' });
    expect(legacy.result.outputs.code).toBe(404);
  });

  it('follows redirects (303 turns a POST into a GET) unless followRedirects is false', async () => {
    routes.set('/from', (_req, res) => {
      res.writeHead(303, { Location: '/to' });
      res.end();
    });
    routes.set('/to', (req, res) => res.end(`landed with ${req.method}`));
    const { result } = await run(httpRequest, { uri: `${base}/from`, method: 'POST', body: 'x' });
    expect(result.outputs.body).toBe('landed with GET');
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /from', 'GET /to']);
    const stay = await run(httpRequest, { uri: `${base}/from`, options: { followRedirects: false } });
    expect(stay.result.outputs.code).toBe(303);
    expect(stay.result.outputs.headers.Location).toEqual(['/to']);
  });

  it('keeps method and body on a 307 redirect', async () => {
    routes.set('/temp', (_req, res) => {
      res.writeHead(307, { Location: '/echo' });
      res.end();
    });
    routes.set('/echo', (req, res, body) => res.end(`${req.method} ${body}`));
    const { result } = await run(httpRequest, { uri: `${base}/temp`, method: 'PUT', body: 'payload' });
    expect(result.outputs.body).toBe('PUT payload');
  });

  it('authenticates with basic (deprecated options) and bearer auth', async () => {
    routes.set('/auth', (req, res) => res.end(req.headers.authorization ?? 'none'));
    const basic = await run(httpRequest, { uri: `${base}/auth`, options: { basicAuthUser: 'user', basicAuthPassword: 'p:ss' } });
    expect(basic.result.outputs.body).toBe(`Basic ${Buffer.from('user:p:ss').toString('base64')}`);
    const nested = await run(httpRequest, { uri: `${base}/auth`, options: { auth: { type: 'BASIC', username: 'u', password: 'p' } } });
    expect(nested.result.outputs.body).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    const bearer = await run(httpRequest, { uri: `${base}/auth`, auth: { type: 'BEARER', token: 'tok' } });
    expect(bearer.result.outputs.body).toBe('Bearer tok');
  });

  it('decodes a gzip-encoded body', async () => {
    routes.set('/gz', (_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end(gzipSync('compressed text'));
    });
    const { result } = await run(httpRequest, { uri: `${base}/gz` });
    expect(result.outputs.body).toBe('compressed text');
  });

  it('refuses a body over options.maxContentLength', async () => {
    routes.set('/big', (_req, res) => res.end('x'.repeat(2000)));
    const { error } = await failure(httpRequest, { uri: `${base}/big`, options: { maxContentLength: 1000 } });
    expect(error.message).toContain('larger than 1000 bytes');
  });

  it('times out a server that stops answering (options.timeout.readIdleTimeout, deprecated readTimeout)', async () => {
    routes.set('/stall', (_req, res) => {
      res.writeHead(200);
      res.write('partial');
      // never ends
    });
    const started = Date.now();
    const { error } = await failure(httpRequest, { uri: `${base}/stall`, options: { timeout: { readIdleTimeout: 'PT0.3S' } } });
    expect(error.message).toContain('read timed out');
    expect(Date.now() - started).toBeLessThan(3_000);
    const legacy = await failure(httpRequest, { uri: `${base}/stall`, options: { readTimeout: 'PT0.2S' } });
    expect(legacy.error.message).toContain('read timed out');
  });

  it('stops when the task is killed', async () => {
    routes.set('/slow', () => {
      // never answers
    });
    const started = Date.now();
    const { error } = await failure(httpRequest, { uri: `${base}/slow` }, (t) => setTimeout(() => t.abort(new Error('killed by user')), 200));
    expect(error.message).toContain('stopped: killed by user');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('reports a refused connection without the credentials of the URL', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { error } = await failure(httpRequest, { uri: `http://user:secret@127.0.0.1:${port}/x` });
    expect(error.message).toContain(`HTTP request to http://127.0.0.1:${port}/x failed`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain('secret');
  });

  it('puts the body under encryptedBody when encryptBody is set, warning that nothing encrypts it', async () => {
    routes.set('/secret', (_req, res) => res.end('classified'));
    const { t, result } = await run(httpRequest, { uri: `${base}/secret`, encryptBody: true });
    expect(result.outputs.body).toBeUndefined();
    expect(result.outputs.encryptedBody).toEqual({ type: 'io.kestra.datatype:aes_encrypted', value: 'classified' });
    expect(t.logs.some((l) => l.level === 'WARN')).toBe(true);
  });

  it('rejects non-HTTP URLs and unsupported proxies', async () => {
    expect((await failure(httpRequest, { uri: 'file:///etc/passwd' })).error.message).toContain('only http and https');
    const { error } = await failure(httpRequest, { uri: `${base}/x`, options: { proxy: { type: 'HTTP', address: '127.0.0.1', port: 3128 } } });
    expect(error.message).toContain('proxies are not supported');
  });
});

describe('core.http.Download', () => {
  it('stores the body under the URL file name and outputs uri, code, length and headers', async () => {
    routes.set('/files/orders.csv', (_req, res) => {
      res.setHeader('Content-Type', 'text/csv');
      res.end('id,total\n1,10\n');
    });
    const { t, result } = await run(httpDownload, { uri: `${base}/files/orders.csv` });
    expect(result.outputs.code).toBe(200);
    expect(result.outputs.length).toBe(14);
    expect(result.outputs.uri).toMatch(/^kestra:\/\/\/company\/team\/flow\/executions\/exec1\/tasks\/task\/taskrun1\/orders\.csv$/);
    expect(await readFile(t.storagePath(result.outputs.uri), 'utf8')).toBe('id,total\n1,10\n');
    expect(result.outputs.headers['Content-Type']).toEqual(['text/csv']);
    expect(result.metrics).toEqual([{ name: 'response.length', type: 'counter', value: 14 }]);
  });

  it('names the file from Content-Disposition, dropping any directory part', async () => {
    routes.set('/cd', (_req, res) => {
      res.setHeader('Content-Disposition', 'attachment; filename="../../etc/report 2024.txt"');
      res.end('x');
    });
    const { result } = await run(httpDownload, { uri: `${base}/cd` });
    expect(result.outputs.uri).toMatch(/\/report%202024\.txt$/);
  });

  it('streams a large body without changing a byte', async () => {
    const payload = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4096) payload[i] = i % 251;
    routes.set('/big.bin', (_req, res) => {
      res.setHeader('Content-Length', payload.length);
      res.end(payload);
    });
    const { t, result } = await run(httpDownload, { uri: `${base}/big.bin` });
    expect(result.outputs.length).toBe(payload.length);
    const stored = await readFile(t.storagePath(result.outputs.uri));
    expect(createHash('sha256').update(stored).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  });

  it('fails when fewer bytes arrive than Content-Length announced', async () => {
    routes.set('/short', (_req, res) => {
      res.writeHead(200, { 'Content-Length': 100 });
      res.write('x'.repeat(40));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const { error } = await failure(httpDownload, { uri: `${base}/short` });
    expect(error.message).toBe('Invalid size, got 40, expected 100');
  });

  it('fails on an empty body unless failOnEmptyResponse is false', async () => {
    routes.set('/empty', (_req, res) => res.end());
    const { error } = await failure(httpDownload, { uri: `${base}/empty` });
    expect(error.message).toBe('No response from server');
    const { t, result } = await run(httpDownload, { uri: `${base}/empty`, failOnEmptyResponse: false });
    expect(result.outputs.length).toBe(0);
    expect(t.logs).toContainEqual({ level: 'WARN', message: `File '${base}/empty' is empty` });
  });

  it('fails on a code ≥ 400 unless allowFailed, which stores the error body', async () => {
    routes.set('/boom', (_req, res) => {
      res.writeHead(500);
      res.end('server exploded');
    });
    const { error } = await failure(httpDownload, { uri: `${base}/boom` });
    expect(error.message).toBe("Failed http request with response code '500' and body:\nserver exploded");
    const { t, result } = await run(httpDownload, { uri: `${base}/boom`, options: { allowFailed: true } });
    expect(result.outputs.code).toBe(500);
    expect(await readFile(t.storagePath(result.outputs.uri), 'utf8')).toBe('server exploded');
  });

  it('stops promptly when killed mid-download', async () => {
    routes.set('/trickle', (_req, res) => {
      res.writeHead(200, { 'Content-Length': 1_000_000 });
      res.write('x'.repeat(1000));
    });
    const started = Date.now();
    const { error } = await failure(httpDownload, { uri: `${base}/trickle` }, (t) => setTimeout(() => t.abort(new Error('timeout')), 300));
    expect(error.message).toContain('stopped: timeout');
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('fileNameOf', () => {
  const url = new URL('http://127.0.0.1/a/b/data%20set.csv?x=1');
  it('prefers filename*, then filename, then the last URL segment', () => {
    expect(fileNameOf(`attachment; filename="plain.txt"; filename*=UTF-8''%C3%A9t%C3%A9.txt`, url)).toBe('été.txt');
    expect(fileNameOf('attachment; filename=plain.txt', url)).toBe('plain.txt');
    expect(fileNameOf(undefined, url)).toBe('data set.csv');
    expect(fileNameOf('inline', new URL('http://127.0.0.1/'))).toBe('download');
    expect(fileNameOf('attachment; filename="..\\\\..\\\\win.ini"', url)).toBe('win.ini');
  });
});
