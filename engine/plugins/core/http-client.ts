/**
 * The HTTP side shared by core.http.Request and core.http.Download (Kestra's AbstractHttp and
 * HttpConfiguration): property schemas, request building (body, form data, multipart, auth),
 * and one exchange with redirects, connect and read-idle timeouts and the task's abort signal.
 */
import { createReadStream } from 'node:fs';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { parseIsoDuration } from '../../duration.ts';
import { Dynamic, Enum, Type, type Static } from '../../contract/index.ts';
import { TaskFailure, type TaskContext } from '../types.ts';

const duration = () => Type.Union([Type.String(), Type.Number()]);
const flag = () => Dynamic(Type.Boolean());
const Auth = Type.Object({
  type: Type.Optional(Enum(['BASIC', 'BEARER', 'DIGEST'])),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  token: Type.Optional(Type.String()),
});
const Ssl = Type.Object({ insecureTrustAllCertificates: Type.Optional(flag()) });
const proxyType = () => Enum(['DIRECT', 'HTTP', 'SOCKS']);
const port = () => Type.Union([Type.Integer(), Type.String()]);

/** Kestra's HttpConfiguration, current and deprecated fields. */
const HttpOptions = Type.Object({
  timeout: Type.Optional(Type.Object({ connectTimeout: Type.Optional(duration()), readIdleTimeout: Type.Optional(duration()) })),
  proxy: Type.Optional(Type.Object({
    type: Type.Optional(proxyType()),
    address: Type.Optional(Type.String()),
    port: Type.Optional(port()),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
  })),
  auth: Type.Optional(Auth),
  ssl: Type.Optional(Ssl),
  followRedirects: Type.Optional(flag()),
  allowFailed: Type.Optional(flag()),
  defaultCharset: Type.Optional(Type.String()),
  logs: Type.Optional(Type.Array(Enum(['REQUEST_HEADERS', 'REQUEST_BODY', 'RESPONSE_HEADERS', 'RESPONSE_BODY']))),
  connectTimeout: Type.Optional(duration()),
  readTimeout: Type.Optional(duration()),
  readIdleTimeout: Type.Optional(duration()),
  connectionPoolIdleTimeout: Type.Optional(duration()),
  maxContentLength: Type.Optional(port()),
  proxyType: Type.Optional(proxyType()),
  proxyAddress: Type.Optional(Type.String()),
  proxyPort: Type.Optional(port()),
  proxyUsername: Type.Optional(Type.String()),
  proxyPassword: Type.Optional(Type.String()),
  basicAuthUser: Type.Optional(Type.String()),
  basicAuthPassword: Type.Optional(Type.String()),
  logLevel: Type.Optional(Enum(['ALL', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'OFF', 'NOT_SPECIFIED'])),
}, { additionalProperties: false });

/** Every AbstractHttp property, current and deprecated (spread into each HTTP task's `Type.Object`). */
export const HTTP_PROPERTIES = {
  uri: Type.String({ minLength: 1 }),
  method: Type.Optional(Type.String()),
  body: Type.Optional(Type.String()),
  formData: Type.Optional(Dynamic(Type.Record(Type.String(), Type.Unknown()))),
  contentType: Type.Optional(Type.String()),
  headers: Type.Optional(Dynamic(Type.Record(Type.String(), Type.Unknown()))),
  options: Type.Optional(HttpOptions),
  /** Deprecated: `options.allowFailed`. */
  allowFailed: Type.Optional(flag()),
  /** Deprecated: `options.ssl`. */
  sslOptions: Type.Optional(Ssl),
  /** Newer Kestra accepts `auth` on the task itself as well as in `options`. */
  auth: Type.Optional(Auth),
};

const HttpTask = Type.Object(HTTP_PROPERTIES);
export type HttpTaskProps = Static<typeof HttpTask>;
export type HttpAuthProps = Static<typeof Auth>;

/** What both HTTP tasks output about the response. */
export const HTTP_RESPONSE_OUTPUTS = {
  uri: Type.String({ description: 'The URI called (Request), or the kestra:// URI of the stored file (Download).' }),
  code: Type.Integer({ description: 'The HTTP status code.' }),
  headers: Type.Record(Type.String(), Type.Array(Type.String()), { description: 'Response headers, each a list of values.' }),
};

/** Kestra's default for `readIdleTimeout`. */
const DEFAULT_READ_IDLE_MS = 5 * 60_000;
const MAX_REDIRECTS = 10;

/** The options that shape one exchange, defaults applied and deprecated aliases folded in. */
export interface HttpSettings {
  connectTimeoutMs?: number;
  readIdleTimeoutMs: number;
  followRedirects: boolean;
  allowFailed: boolean;
  insecure: boolean;
  authorization?: string;
  maxContentLength?: number;
}

export function httpSettings(props: HttpTaskProps): HttpSettings {
  const o = props.options ?? {};
  const proxy = o.proxy?.address ?? o.proxyAddress;
  const proxyType = o.proxy?.type ?? o.proxyType;
  if (proxy && proxyType !== 'DIRECT') {
    // Silently connecting directly could breach the network policy the proxy enforces.
    throw new TaskFailure('options.proxy: HTTP proxies are not supported by Baton yet');
  }
  const connect = o.timeout?.connectTimeout ?? o.connectTimeout;
  const readIdle = o.timeout?.readIdleTimeout ?? o.readIdleTimeout ?? o.readTimeout;
  const maxContentLength = o.maxContentLength == null ? undefined : Number(o.maxContentLength);
  return {
    connectTimeoutMs: connect == null ? undefined : durationMs(connect, 'options.timeout.connectTimeout'),
    readIdleTimeoutMs: readIdle == null ? DEFAULT_READ_IDLE_MS : durationMs(readIdle, 'options.timeout.readIdleTimeout'),
    followRedirects: toFlag(o.followRedirects, true),
    allowFailed: toFlag(o.allowFailed ?? props.allowFailed, false),
    insecure: toFlag(o.ssl?.insecureTrustAllCertificates ?? props.sslOptions?.insecureTrustAllCertificates, false),
    authorization: authorization(o.auth ?? props.auth, o.basicAuthUser, o.basicAuthPassword),
    maxContentLength: Number.isFinite(maxContentLength) ? maxContentLength : undefined,
  };
}

function authorization(auth: HttpAuthProps | undefined, user?: string, password?: string): string | undefined {
  if (auth?.type === 'BEARER') {
    if (!auth.token) throw new TaskFailure('auth: a BEARER authentication needs a token');
    return `Bearer ${auth.token}`;
  }
  if (auth?.type === 'DIGEST') throw new TaskFailure('auth: DIGEST authentication is not supported by Baton yet');
  const username = auth?.username ?? user;
  if (username === undefined) return undefined;
  return `Basic ${Buffer.from(`${username}:${auth?.password ?? password ?? ''}`).toString('base64')}`;
}

/** An ISO-8601 duration, or a number of seconds (how Jackson reads a number into a Java Duration). */
function durationMs(value: string | number, property: string): number {
  if (typeof value === 'number') return value * 1000;
  try {
    return parseIsoDuration(value);
  } catch (error) {
    throw new TaskFailure(`${property}: ${(error as Error).message}`, { cause: error });
  }
}

export function toFlag(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'string') return value.trim().toLowerCase() === 'true';
  return Boolean(value);
}

/** A request body that can be sent again (after a 307/308 redirect). */
type RequestBody = { bytes: Buffer } | { open: () => Readable };

export interface PreparedRequest {
  url: URL;
  method: string;
  headers: Record<string, string | string[]>;
  body?: RequestBody;
}

/**
 * Builds the request as Kestra's AbstractHttp.request does: `formData` wins over `body` (multipart
 * when `contentType` is multipart/form-data, else URL-encoded); with neither, `contentType` is still
 * sent as the Content-Type header. `headers` are added last.
 */
export async function prepareRequest(ctx: TaskContext<unknown>, props: HttpTaskProps, settings: HttpSettings): Promise<PreparedRequest> {
  const url = parseUrl(props.uri);
  const method = (props.method ?? 'GET').toUpperCase();
  const contentType = props.contentType ?? 'application/json';
  const charset = props.options?.defaultCharset ?? 'UTF-8';
  const headers: Record<string, string | string[]> = { 'User-Agent': 'Baton' };
  let body: RequestBody | undefined;

  const formData = objectProp(props.formData, 'formData');
  if (formData && Object.keys(formData).length > 0) {
    if (contentType === 'multipart/form-data') {
      const boundary = `----baton${randomBytes(12).toString('hex')}`;
      const parts = await multipartParts(ctx, formData);
      headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
      body = { open: () => Readable.from(multipartStream(parts, boundary)) };
    } else {
      const form = new URLSearchParams();
      for (const [key, value] of Object.entries(formData)) form.append(key, fieldText(value));
      headers['Content-Type'] = `application/x-www-form-urlencoded; charset=${charset}`;
      body = { bytes: Buffer.from(form.toString(), 'utf8') };
    }
  } else if (props.body != null) {
    headers['Content-Type'] = /;\s*charset=/i.test(contentType) ? contentType : `${contentType}; charset=${charset}`;
    body = { bytes: Buffer.from(String(props.body), 'utf8') };
  } else {
    headers['Content-Type'] = contentType;
  }
  if (settings.authorization) headers.Authorization = settings.authorization;
  for (const [name, value] of Object.entries(objectProp(props.headers, 'headers') ?? {})) {
    setHeader(headers, name, Array.isArray(value) ? value.map(String) : String(value));
  }
  return { url, method, headers, body };
}

/** Kestra URL-encodes the common case of spaces in a rendered URI; everything else must already be valid. */
function parseUrl(uri: string): URL {
  let url: URL;
  try {
    url = new URL(String(uri).replace(/ /g, '%20'));
  } catch (error) {
    throw new TaskFailure(`uri: '${uri}' is not a valid URL`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TaskFailure(`uri: only http and https URLs are supported, got '${url.protocol}'`);
  return url;
}

/** A map property that an expression may have rendered to a JSON string. */
function objectProp(value: unknown, property: string): Record<string, unknown> | undefined {
  if (value == null || value === '') return undefined;
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw new TaskFailure(`${property} must be a map: ${(error as Error).message}`, { cause: error });
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TaskFailure(`${property} must be a map`);
  return parsed as Record<string, unknown>;
}

/** Replaces a header whatever the case it was first written in. */
function setHeader(headers: Record<string, string | string[]>, name: string, value: string | string[]): void {
  for (const existing of Object.keys(headers)) if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
  headers[name] = value;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return value;
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

type MultipartPart = { name: string; text: string } | { name: string; filename: string; path: string };

/** kestra:// values and `{name, content}` maps become file parts (downloaded first); other values are text. */
async function multipartParts(ctx: TaskContext<unknown>, formData: Record<string, unknown>): Promise<MultipartPart[]> {
  const parts: MultipartPart[] = [];
  const workingDir = await ctx.workingDirectory();
  const download = async (uri: string) => {
    const path = join(workingDir, `upload-${randomBytes(6).toString('hex')}`);
    await ctx.storage.download(uri, path);
    return path;
  };
  for (const [name, value] of Object.entries(formData)) {
    if (typeof value === 'string' && value.startsWith('kestra://')) {
      parts.push({ name, filename: decodeURIComponent(basename(value)), path: await download(value) });
    } else if (typeof value === 'object' && value !== null && 'name' in value && 'content' in value) {
      const file = value as { name: unknown; content: unknown };
      parts.push({ name, filename: String(file.name), path: await download(String(file.content)) });
    } else {
      parts.push({ name, text: fieldText(value) });
    }
  }
  return parts;
}

async function* multipartStream(parts: MultipartPart[], boundary: string): AsyncGenerator<Buffer> {
  const quote = (s: string) => s.replace(/["\r\n\\]/g, (c) => encodeURIComponent(c));
  for (const part of parts) {
    if ('text' in part) {
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(part.name)}"\r\n\r\n${part.text}\r\n`);
    } else {
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quote(part.name)}"; filename="${quote(part.filename)}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      );
      for await (const chunk of createReadStream(part.path)) yield chunk as Buffer;
      yield Buffer.from('\r\n');
    }
  }
  yield Buffer.from(`--${boundary}--\r\n`);
}

export interface HttpResponse {
  status: number;
  /** Response headers as Kestra outputs them: `{Name: [values…]}`, names as the server wrote them. */
  headers: Record<string, string[]>;
  /** The body, undecoded as received. Consume it or call `discard`. */
  raw: IncomingMessage;
  url: URL;
  /** Why the exchange was cut while the body was being read (a read timeout), if it was. */
  interruption?: Error;
}

/**
 * Sends the request and resolves once the response headers are in, following redirects unless
 * disabled. Timeouts and aborts reject with a TaskFailure and also end a body still being read.
 */
export async function sendRequest(request: PreparedRequest, settings: HttpSettings, signal: AbortSignal): Promise<HttpResponse> {
  let { url, method, body } = request;
  let headers = { ...request.headers };
  for (let hop = 0; ; hop++) {
    const response = await exchange(url, method, headers, body, settings, signal);
    const location = response.raw.headers.location;
    if (!settings.followRedirects || !location || ![301, 302, 303, 307, 308].includes(response.status) || hop >= MAX_REDIRECTS) {
      return response;
    }
    response.raw.resume();
    const next = new URL(location, url);
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method !== 'GET' && method !== 'HEAD')) {
      // As browsers and Apache HttpClient do: the redirected request is a GET without the body.
      method = method === 'HEAD' ? 'HEAD' : 'GET';
      body = undefined;
      headers = withoutHeaders(headers, ['content-type', 'content-length']);
    }
    if (next.origin !== url.origin) headers = withoutHeaders(headers, ['authorization', 'cookie']);
    url = next;
  }
}

function withoutHeaders(headers: Record<string, string | string[]>, names: string[]): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}

function exchange(
  url: URL,
  method: string,
  headers: Record<string, string | string[]>,
  body: RequestBody | undefined,
  settings: HttpSettings,
  signal: AbortSignal,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const outgoing: OutgoingHttpHeaders = { ...headers };
    if (body && 'bytes' in body) outgoing['Content-Length'] = body.bytes.length;
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method,
      headers: outgoing,
      signal,
      rejectUnauthorized: !settings.insecure,
    });
    const fail = (error: unknown) => reject(requestFailure(url, error, signal));
    let connectTimer: NodeJS.Timeout | undefined;
    let response: HttpResponse | undefined;
    const cut = (error: HttpTimeoutError) => {
      if (response) response.interruption = error;
      request.destroy(error);
    };
    request.on('socket', (socket) => {
      if (settings.connectTimeoutMs !== undefined && socket.connecting) {
        connectTimer = setTimeout(() => cut(new HttpTimeoutError('connect', settings.connectTimeoutMs!)), settings.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      }
    });
    // Socket idle time, while waiting for the response and while reading its body.
    request.setTimeout(settings.readIdleTimeoutMs, () => cut(new HttpTimeoutError('read', settings.readIdleTimeoutMs)));
    request.once('error', (error) => {
      clearTimeout(connectTimer);
      fail(error);
    });
    request.once('response', (raw) => {
      clearTimeout(connectTimer);
      response = { status: raw.statusCode ?? 0, headers: headerLists(raw.rawHeaders), raw, url };
      resolve(response);
    });
    if (!body) request.end();
    else if ('bytes' in body) request.end(body.bytes);
    else pipeline(body.open(), request).catch((error: unknown) => request.destroy(error as Error));
  });
}

export class HttpTimeoutError extends Error {
  override readonly name = 'HttpTimeoutError';
  constructor(
    readonly phase: 'connect' | 'read',
    readonly ms: number,
  ) {
    super(phase === 'connect' ? `connect timed out after ${ms} ms` : `read timed out: no data for ${ms} ms`);
  }
}

/** The failure for a request that got no usable response; user:password is kept out of the message. */
export function requestFailure(url: URL, error: unknown, signal: AbortSignal): TaskFailure {
  if (error instanceof TaskFailure) return error;
  const where = `${url.protocol}//${url.host}${url.pathname}`;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'killed';
    return new TaskFailure(`HTTP request to ${where} stopped: ${why}`, { cause: reason });
  }
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error as Error).message ?? String(error);
  return new TaskFailure(`HTTP request to ${where} failed: ${code && !message.includes(code) ? `${code} ` : ''}${message}`, { cause: error });
}

/** `rawHeaders` pairs grouped into lists, keeping the first spelling of each name. */
function headerLists(rawHeaders: string[]): Record<string, string[]> {
  const lists: Record<string, string[]> = {};
  const spelling = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i].toLowerCase();
    const name = spelling.get(lower) ?? rawHeaders[i];
    spelling.set(lower, name);
    (lists[name] ??= []).push(rawHeaders[i + 1]);
  }
  return lists;
}

/** The first value of a header, whatever its case. */
export function firstHeader(headers: Record<string, string[]>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? headers[key][0] : undefined;
}

/** Counts the bytes received on the wire, before any content decoding. */
export class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** A decoder for the response's Content-Encoding (gzip, deflate, br), or none. */
export function contentDecoder(response: HttpResponse): Transform | undefined {
  const encoding = firstHeader(response.headers, 'content-encoding')?.trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  if (encoding === 'br') return createBrotliDecompress();
  return undefined;
}

/**
 * Reads the whole (decoded) body into memory, refusing more than `limit` bytes.
 * Resolves to the bytes and the count received on the wire.
 */
export async function readBody(response: HttpResponse, url: URL, signal: AbortSignal, limit?: number): Promise<{ body: Buffer; wireBytes: number }> {
  const counter = new ByteCounter();
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      size += chunk.length;
      if (limit !== undefined && size > limit) {
        throw new TaskFailure(`the response body is larger than ${limit} bytes (options.maxContentLength); use the Download task for large payloads`);
      }
      chunks.push(chunk);
    }
  };
  const decoder = contentDecoder(response);
  try {
    if (decoder) await pipeline(response.raw, counter, decoder, collect);
    else await pipeline(response.raw, counter, collect);
  } catch (error) {
    throw requestFailure(url, response.interruption ?? error, signal);
  }
  return { body: Buffer.concat(chunks, size), wireBytes: counter.bytes };
}

/** Kestra's message for a response code ≥ 400 when failures are not allowed. */
export async function failedResponse(response: HttpResponse, signal: AbortSignal): Promise<TaskFailure> {
  let text = '';
  try {
    text = (await readBody(response, response.url, signal, 64 * 1024)).body.toString('utf8');
  } catch {
    response.raw.destroy();
  }
  return new TaskFailure(`Failed http request with response code '${response.status}'${text ? ` and body:\n${text}` : ''}`, {
    outputs: { code: response.status, headers: response.headers },
  });
}
