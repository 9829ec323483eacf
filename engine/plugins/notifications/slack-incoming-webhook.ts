import { Empty, Type, type Static } from '../../contract/index.ts';
import { parseIsoDuration } from '../../duration.ts';
import { readBody, sendRequest, type HttpResponse, type HttpSettings } from '../core/http-client.ts';
import { TaskFailure, defineTask, type TaskContext } from '../types.ts';

type Duration = string | number;

interface SlackOptions {
  connectTimeout?: Duration;
  readTimeout?: Duration;
  readIdleTimeout?: Duration;
  connectionPoolIdleTimeout?: Duration;
  maxContentLength?: number | string;
  defaultCharset?: string;
  headers?: Record<string, unknown>;
}

/** The Slack SDK's default read timeout, which Kestra's plugin keeps. */
const DEFAULT_READ_TIMEOUT_MS = 10_000;
/** Kestra's default cap on the response body (10 MiB). */
const DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024 * 1024;

const SlackIncomingWebhookProperties = Type.Object({
  url: Type.String({minLength: 1}),
  payload: Type.Optional(Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())])),
  messageText: Type.Optional(Type.String()),
  options: Type.Optional(Type.Object({ connectTimeout: Type.Optional(Type.Union([Type.String(), Type.Number()])), readTimeout: Type.Optional(Type.Union([Type.String(), Type.Number()])), readIdleTimeout: Type.Optional(Type.Union([Type.String(), Type.Number()])), connectionPoolIdleTimeout: Type.Optional(Type.Union([Type.String(), Type.Number()])), maxContentLength: Type.Optional(Type.Union([Type.Integer(), Type.String()])), defaultCharset: Type.Optional(Type.String()), headers: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.String()])) }, {additionalProperties: false})),
});
type SlackIncomingWebhookProps = Static<typeof SlackIncomingWebhookProperties>;

/**
 * io.kestra.plugin.notifications.slack.SlackIncomingWebhook (now io.kestra.plugin.slack.notifications…):
 * POSTs `payload` (a JSON document) or `messageText` (plain text or Markdown, sent as `{"text": …}`)
 * to an incoming-webhook URL. A non-2xx answer fails the task. The URL's path is the credential, so it
 * is masked and never written in a message.
 */
export const slackIncomingWebhook = defineTask({
  type: 'io.kestra.plugin.notifications.slack.SlackIncomingWebhook',
  aliases: ['io.kestra.plugin.slack.notifications.SlackIncomingWebhook', 'io.kestra.plugin.slack.SlackIncomingWebhook'],
  kind: 'runnable',
  title: 'Send a Slack message using an incoming webhook',
  properties: SlackIncomingWebhookProperties,
  description: 'POSTs a message to a Slack incoming-webhook `url`: `payload`, a JSON document (blocks, attachments…), or `messageText`, plain text or Markdown sent as {"text": …}. A non-2xx answer fails the task. The URL\'s path is the credential, so it is masked and never written in a message.',
  outputs: Empty(),
  examples: [{ title: 'Example', code: 'id: notify\ntype: io.kestra.plugin.notifications.slack.SlackIncomingWebhook\nurl: "{{ secret(\'SLACK_WEBHOOK\') }}"\nmessageText: "Flow {{ flow.id }} ended"' }],
  async run(ctx) {
    const url = webhookUrl(ctx);
    const payload = slackPayload(ctx.props);
    ctx.logger.debug(`Send Slack webhook: ${payload}`);

    const options = ctx.props.options ?? {};
    const settings: HttpSettings = {
      connectTimeoutMs: options.connectTimeout == null ? undefined : durationMs(options.connectTimeout, 'options.connectTimeout'),
      readIdleTimeoutMs: durationMs(options.readTimeout ?? options.readIdleTimeout ?? DEFAULT_READ_TIMEOUT_MS / 1000, 'options.readTimeout'),
      // A redirect would re-send the message somewhere the flow never named.
      followRedirects: false,
      allowFailed: true,
      insecure: false,
    };
    const headers: Record<string, string> = { 'User-Agent': 'Baton', ...stringHeaders(options.headers) };
    headers['Content-Type'] = 'application/json; charset=utf-8';

    let response: HttpResponse;
    let body: string;
    try {
      response = await sendRequest({ url, method: 'POST', headers, body: { bytes: Buffer.from(payload, 'utf8') } }, settings, ctx.signal);
      const limit = options.maxContentLength == null ? DEFAULT_MAX_CONTENT_LENGTH : Number(options.maxContentLength);
      body = (await readBody(response, url, ctx.signal, limit)).body.toString('utf8');
    } catch (error) {
      throw new TaskFailure(hidePath((error as Error).message, url), { cause: error });
    }
    ctx.logger.debug(`Response: code=${response.status}, message=${response.raw.statusMessage ?? ''}, body=${body}`);
    if (response.status < 200 || response.status > 299) {
      throw new TaskFailure(
        hidePath(`Slack webhook request failed with status ${response.status}: ${response.raw.statusMessage ?? ''} - ${body}`, url),
      );
    }
    ctx.logger.info('Request succeeded');
  },
});

/** The rendered URL, checked, with its secret parts registered for masking. */
function webhookUrl(ctx: TaskContext<SlackIncomingWebhookProps>): URL {
  const raw = String(ctx.props.url ?? '').trim();
  ctx.maskSecret(raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    // The text itself may be the secret: say what is wrong without quoting it.
    throw new TaskFailure('url: not a valid URL', { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TaskFailure(`url: only http and https URLs are supported, got '${url.protocol}'`);
  const secretPart = url.pathname + url.search;
  if (secretPart.length > 1) ctx.maskSecret(secretPart);
  if (url.password) ctx.maskSecret(url.password);
  return url;
}

/** Replaces the webhook's path (its credential) wherever a message quotes it. */
function hidePath(message: string, url: URL): string {
  let text = message.split(url.href).join(`${url.origin}/***`);
  if (url.pathname.length > 1) text = text.split(url.pathname).join('/***');
  if (url.search.length > 1) text = text.split(url.search).join('?***');
  return text;
}

/**
 * The JSON document to send, as Kestra's MessageService builds it: `payload` wins and must be JSON;
 * else `messageText` is sent as is when it is a JSON object, otherwise as `{"text": …}` with
 * Markdown bold, italics and links turned into Slack's mrkdwn.
 */
export function slackPayload(props: Pick<SlackIncomingWebhookProps, 'payload' | 'messageText'>): string {
  if (props.payload != null) {
    if (typeof props.payload === 'object') return JSON.stringify(props.payload);
    try {
      return JSON.stringify(JSON.parse(props.payload));
    } catch (error) {
      throw new TaskFailure(`payload: not a valid JSON document: ${(error as Error).message}`, { cause: error });
    }
  }
  if (props.messageText != null) {
    const text = String(props.messageText);
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) {
      try {
        return JSON.stringify(JSON.parse(trimmed));
      } catch {
        // Text that merely starts with a brace.
      }
    }
    return JSON.stringify({ text: toSlackMrkdwn(text) });
  }
  throw new TaskFailure("Either 'messageText' or 'payload' must be provided");
}

/** Markdown's `**bold**`, `__italic__` and `[label](link)` in Slack's mrkdwn. */
export function toSlackMrkdwn(text: string): string {
  return text
    .replace(/\*\*(.*?)\*\*/g, '*$1*')
    .replace(/__(.*?)__/g, '_$1_')
    .replace(/\[(.*?)\]\((.*?)\)/g, '<$2|$1>');
}

function stringHeaders(value: Record<string, unknown> | string | undefined): Record<string, string> {
  if (value == null || value === '') return {};
  let map: unknown = value;
  if (typeof value === 'string') {
    try {
      map = JSON.parse(value);
    } catch (error) {
      throw new TaskFailure(`options.headers must be a map: ${(error as Error).message}`, { cause: error });
    }
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new TaskFailure('options.headers must be a map');
  return Object.fromEntries(Object.entries(map).map(([name, v]) => [name, String(v)]));
}

/** An ISO-8601 duration, or a number of seconds. */
function durationMs(value: Duration, property: string): number {
  if (typeof value === 'number') return value * 1000;
  try {
    return parseIsoDuration(value);
  } catch (error) {
    throw new TaskFailure(`${property}: ${(error as Error).message}`, { cause: error });
  }
}
