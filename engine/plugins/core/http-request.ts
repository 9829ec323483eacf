import { Dynamic, Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';
import {
  HTTP_PROPERTIES, HTTP_RESPONSE_OUTPUTS, failedResponse, httpSettings, prepareRequest, readBody, sendRequest, toFlag,
} from './http-client.ts';

/** Kestra's documented default cap on the response body this task keeps in memory. */
const DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024 * 1024;

/** Kestra's type tag of an encrypted output. */
const ENCRYPTED_TYPE = 'io.kestra.datatype:aes_encrypted';

/**
 * io.kestra.plugin.core.http.Request: one HTTP call whose response becomes the outputs
 * `uri`, `code`, `headers` (`{name: [values]}`) and `body` (text). A code ≥ 400 fails the task
 * unless `options.allowFailed`.
 */
export const httpRequest = defineTask({
  type: 'io.kestra.plugin.core.http.Request',
  aliases: ['io.kestra.plugin.fs.http.Request'],
  kind: 'runnable',
  title: 'Send an HTTP request',
  description: 'Sends one HTTP request (any method, with a body, form data or a multipart upload, headers, basic or bearer auth, proxy and timeouts) and makes the response available as outputs: its code, headers and body as text. A code of 400 or more fails the task unless `options.allowFailed` is set.',
  properties: Type.Object({ ...HTTP_PROPERTIES, encryptBody: Type.Optional(Dynamic(Type.Boolean(), { description: 'Output the body as `encryptedBody` instead of `body`.' })) }),
  outputs: Type.Object({
    ...HTTP_RESPONSE_OUTPUTS,
    body: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The response body as text (null when empty).' })),
    encryptedBody: Type.Optional(Type.Unknown({ description: 'The body, when `encryptBody` is set.' })),
    formData: Type.Optional(Type.Unknown({ description: 'The form data sent.' })),
  }),
  examples: [{
    title: 'POST JSON',
    code: 'id: post\ntype: io.kestra.plugin.core.http.Request\nuri: https://example.com/api/items\nmethod: POST\ncontentType: application/json\nbody: \'{"name": "{{ flow.id }}"}\'\noptions:\n  allowFailed: true',
  }],
  async run(ctx) {
    const settings = httpSettings(ctx.props);
    const request = await prepareRequest(ctx, ctx.props, settings);
    const response = await sendRequest(request, settings, ctx.signal);
    if (response.status >= 400 && !settings.allowFailed) throw await failedResponse(response, ctx.signal);

    const { body } = await readBody(response, request.url, ctx.signal, settings.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH);
    const text = body.length > 0 ? body.toString('utf8') : null;
    const outputs: Record<string, unknown> = {
      uri: request.url.toString(),
      code: response.status,
      headers: response.headers,
    };
    if (toFlag(ctx.props.encryptBody, false)) {
      // What Kestra does when no encryption key is configured, which is always the case in Baton.
      ctx.logger.warn('Unable to encrypt the output as encryption is not configured');
      outputs.encryptedBody = text === null ? null : { type: ENCRYPTED_TYPE, value: text };
    } else {
      outputs.body = text;
    }
    if (ctx.props.formData != null) outputs.formData = ctx.props.formData;
    return { outputs };
  },
});
