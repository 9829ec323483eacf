import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Dynamic, Type } from '../../contract/index.ts';
import { TaskFailure, defineTask, type TaskResult } from '../types.ts';
import {
  ByteCounter, HTTP_PROPERTIES, HTTP_RESPONSE_OUTPUTS, contentDecoder, failedResponse, firstHeader, httpSettings, prepareRequest,
  requestFailure, sendRequest, toFlag,
} from './http-client.ts';

/**
 * io.kestra.plugin.core.http.Download: streams a response body into internal storage.
 * Outputs `uri` (kestra://), `code`, `length` and `headers`. Fails when fewer or more bytes arrive
 * than Content-Length announced, on an empty body (unless `failOnEmptyResponse: false`), and on a
 * code ≥ 400 unless `options.allowFailed`.
 */
export const httpDownload = defineTask({
  type: 'io.kestra.plugin.core.http.Download',
  aliases: ['io.kestra.plugin.fs.http.Download'],
  kind: 'runnable',
  title: 'Download a file over HTTP into internal storage',
  description: "Streams a response body into the execution's internal storage, named after Content-Disposition or the URL, and outputs its kestra:// URI for later tasks. The task fails when fewer or more bytes arrive than Content-Length announced, on an empty body unless `failOnEmptyResponse: false`, and on a code of 400 or more unless `options.allowFailed`.",
  properties: Type.Object({ ...HTTP_PROPERTIES, failOnEmptyResponse: Type.Optional(Dynamic(Type.Boolean(), { description: 'Fail on an empty body (default true).' })) }),
  outputs: Type.Object({ ...HTTP_RESPONSE_OUTPUTS, length: Type.Integer({ description: 'Bytes stored.' }) }),
  examples: [{ title: 'Download a CSV file', code: 'id: download\ntype: io.kestra.plugin.core.http.Download\nuri: https://example.com/data/orders.csv' }],
  async run(ctx): Promise<TaskResult & { metrics: Array<{ name: string; type: 'counter'; value: number }> }> {
    const settings = httpSettings(ctx.props);
    const request = await prepareRequest(ctx, ctx.props, settings);
    const response = await sendRequest(request, settings, ctx.signal);
    if (response.status >= 400 && !settings.allowFailed) throw await failedResponse(response, ctx.signal);

    const name = encodeURIComponent(fileNameOf(firstHeader(response.headers, 'content-disposition'), response.url));
    // A HEAD response announces the length of a body it does not carry.
    const expected = request.method === 'HEAD' ? undefined : firstHeader(response.headers, 'content-length');
    const wire = new ByteCounter();
    const stored = new ByteCounter();
    const decoder = contentDecoder(response);
    const stages: Transform[] = decoder ? [wire, decoder, stored] : [wire, stored];
    const flowing = pipeline(response.raw, ...(stages as [Transform, ...Transform[]]));
    let uri: string;
    try {
      [, uri] = await Promise.all([flowing, ctx.storage.putFile(name, stored)]);
    } catch (error) {
      response.raw.destroy();
      // A server closing before the announced length arrives is Kestra's "Invalid size" case.
      if (!ctx.signal.aborted && !response.interruption && expected !== undefined && wire.bytes < Number(expected)) {
        throw new TaskFailure(`Invalid size, got ${wire.bytes}, expected ${expected}`, { cause: error });
      }
      throw requestFailure(response.url, response.interruption ?? error, ctx.signal);
    }

    if (expected !== undefined && Number(expected) !== wire.bytes) {
      await ctx.storage.backend.delete(uri).catch(() => false);
      throw new TaskFailure(`Invalid size, got ${wire.bytes}, expected ${expected}`);
    }
    if (stored.bytes === 0) {
      if (!toFlag(ctx.props.failOnEmptyResponse, true)) ctx.logger.warn(`File '${request.url}' is empty`);
      else if (!settings.allowFailed) throw new TaskFailure('No response from server', { outputs: { code: response.status, headers: response.headers } });
    }
    ctx.logger.debug(`File '${request.url}' downloaded with size '${stored.bytes}'`);
    return {
      outputs: { uri, code: response.status, length: stored.bytes, headers: response.headers },
      metrics: [{ name: 'response.length', type: 'counter', value: stored.bytes }],
    };
  },
});

/**
 * The stored file's name: Content-Disposition's `filename*` (RFC 5987) or `filename`, else the URL's
 * last path segment. Directory parts are dropped so a server cannot choose where the file lands.
 */
export function fileNameOf(contentDisposition: string | undefined, url: URL): string {
  const fromHeader = contentDisposition ? dispositionFileName(contentDisposition) : undefined;
  const candidate = fromHeader ?? safeDecode(url.pathname.split('/').pop() ?? '');
  const name = basename(candidate.replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '');
  return name && name !== '.' && name !== '..' ? name : 'download';
}

function dispositionFileName(header: string): string | undefined {
  let plain: string | undefined;
  let extended: string | undefined;
  for (const part of header.split(';')) {
    const [rawKey, ...rest] = part.split('=');
    const key = rawKey.trim().toLowerCase();
    const value = rest.join('=').trim();
    if (key === 'filename*') {
      // charset'language'percent-encoded-name
      const quote = value.indexOf("'", value.indexOf("'") + 1);
      extended = safeDecode(unquote(quote >= 0 ? value.slice(quote + 1) : value));
    } else if (key === 'filename') {
      plain = unquote(value);
    }
  }
  const name = extended ?? plain;
  return name ? name : undefined;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
