/**
 * SlackIncomingWebhook against a real node:http server on 127.0.0.1 standing in for hooks.slack.com
 * (nothing else is ever contacted), alone and as the `errors:` branch of a failing flow.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../index.ts';
import { formatProblem, validateFlowSource } from '../../flow/index.ts';
import { createTempDirTaskContext, type TempDirTaskContext } from '../../scripts/temp-dir-task-context.ts';
import { TaskFailure } from '../types.ts';
import { describeEachDatabase } from '../../../test/support/databases.ts';
import { slackIncomingWebhook, slackPayload, toSlackMrkdwn } from './slack-incoming-webhook.ts';

interface Received {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
}

/** The part of a Slack webhook URL that is the credential. */
const SECRET_PATH = '/services/T0000/B0000/s3cr3tW3bh00kT0k3n';

let server: http.Server;
let base: string;
const received: Received[] = [];
let answer: { status: number; body: string } = { status: 200, body: 'ok' };

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ method: req.method!, path: req.url!, contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(answer.status, { 'Content-Type': 'text/plain' });
    res.end(answer.body);
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
  received.length = 0;
  answer = { status: 200, body: 'ok' };
  await Promise.all(open.splice(0).map((t) => t.cleanup()));
});

async function send(props: Record<string, unknown>) {
  const t = await createTempDirTaskContext<any>(props);
  open.push(t);
  const result = await slackIncomingWebhook.run(t.ctx);
  return { result, t };
}

describe('SlackIncomingWebhook', () => {
  it('POSTs the payload as JSON and logs success', async () => {
    const { result, t } = await send({ url: `${base}${SECRET_PATH}`, payload: '{\n  "text": "Pipeline failed: flow"\n}\n' });
    expect(result).toBeUndefined();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', path: SECRET_PATH });
    expect(received[0].contentType).toMatch(/^application\/json/);
    expect(JSON.parse(received[0].body)).toEqual({ text: 'Pipeline failed: flow' });
    expect(t.logs.some((l) => l.level === 'INFO' && l.message === 'Request succeeded')).toBe(true);
    expect(t.secrets).toContain(SECRET_PATH);
  });

  it('wraps messageText as {"text"} with Markdown turned into mrkdwn', async () => {
    await send({ url: `${base}${SECRET_PATH}`, messageText: 'Run **done**, see [logs](http://x/y) __now__' });
    expect(JSON.parse(received[0].body)).toEqual({ text: 'Run *done*, see <http://x/y|logs> _now_' });
  });

  it('sends a JSON object given as messageText as is, and a payload written as a YAML map', async () => {
    await send({ url: `${base}/hook`, messageText: '{"blocks": [{"type": "divider"}]}' });
    await send({ url: `${base}/hook`, payload: { text: 'from a map' } });
    expect(JSON.parse(received[0].body)).toEqual({ blocks: [{ type: 'divider' }] });
    expect(JSON.parse(received[1].body)).toEqual({ text: 'from a map' });
  });

  it('sends options.headers', async () => {
    let seen: http.IncomingHttpHeaders = {};
    server.once('request', (req) => (seen = req.headers));
    await send({ url: `${base}/hook`, messageText: 'hi', options: { headers: { 'X-Team': 'data' } } });
    expect(seen['x-team']).toBe('data');
  });

  it('fails on a non-2xx answer with the status and body, never the secret path', async () => {
    answer = { status: 404, body: 'no_service' };
    const failure = await send({ url: `${base}${SECRET_PATH}`, messageText: 'hi' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TaskFailure);
    const message = (failure as Error).message;
    expect(message).toContain('status 404');
    expect(message).toContain('no_service');
    expect(message).not.toContain('s3cr3t');
  });

  it('a connection failure names the host, not the secret path', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const failure = await send({ url: `http://127.0.0.1:${port}${SECRET_PATH}`, messageText: 'hi' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TaskFailure);
    expect((failure as Error).message).toContain(`127.0.0.1:${port}`);
    expect((failure as Error).message).not.toContain('s3cr3t');
  });

  it('refuses a payload that is not JSON, and a task with neither payload nor messageText', async () => {
    await expect(send({ url: `${base}/hook`, payload: '{"text": "unterminated' })).rejects.toThrow(/payload: not a valid JSON document/);
    await expect(send({ url: `${base}/hook` })).rejects.toThrow("Either 'messageText' or 'payload' must be provided");
    expect(received).toHaveLength(0);
  });

  it('refuses a URL that is not http(s) without quoting it', async () => {
    await expect(send({ url: 'not a url s3cr3t', messageText: 'x' })).rejects.toThrow(/^url: not a valid URL$/);
  });

  it('slackPayload and toSlackMrkdwn', () => {
    expect(slackPayload({ messageText: '{ not json' })).toBe(JSON.stringify({ text: '{ not json' }));
    expect(toSlackMrkdwn('plain')).toBe('plain');
  });
});

const ALERT_FLOW = `
id: unreliable_flow
namespace: zoomcamp

tasks:
  - id: fail
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - exit 1

errors:
  - id: alert_on_failure
    type: io.kestra.plugin.notifications.slack.SlackIncomingWebhook
    url: "{{ secret('SLACK_WEBHOOK') }}"
    payload: |
      {
        "text": "Pipeline failed: {{ flow.id }}"
      }
`;

describeEachDatabase('SlackIncomingWebhook in a flow errors branch (seed Part 10)', (openDb) => {
  let engine: Engine;
  let dataDir: string;
  beforeAll(async () => {
    const { db } = await openDb();
    dataDir = await mkdtemp(join(tmpdir(), 'baton-slack-'));
    const webhook = `${base}${SECRET_PATH}`;
    engine = createEngine({ db, dataDir, env: { SECRET_SLACK_WEBHOOK: Buffer.from(webhook).toString('base64') } });
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('validates, runs the alert after the failure, and keeps the webhook out of the logs', async () => {
    const { flow, problems } = validateFlowSource(ALERT_FLOW, 'alert.yaml');
    expect(problems.map(formatProblem)).toEqual([]);
    const logs: string[] = [];
    const stop = engine.onLog((l) => logs.push(l.message));
    const execution = await engine.execute({ flow: flow!, inputs: {} });
    await engine.idle();
    stop();

    expect(execution.state.current).toBe('FAILED');
    const alert = execution.taskRunList.find((t) => t.taskId === 'alert_on_failure');
    expect(alert?.state.current).toBe('SUCCESS');
    expect(received).toHaveLength(1);
    expect(received[0].path).toBe(SECRET_PATH);
    expect(JSON.parse(received[0].body)).toEqual({ text: 'Pipeline failed: unreliable_flow' });
    expect(logs.join('\n')).not.toContain('s3cr3t');
  });

  it('a failing webhook fails the errors branch, with the status in the logs and no secret', async () => {
    answer = { status: 500, body: 'internal_error' };
    const { flow } = validateFlowSource(ALERT_FLOW, 'alert.yaml');
    const logs: string[] = [];
    const stop = engine.onLog((l) => logs.push(l.message));
    const execution = await engine.execute({ flow: flow!, inputs: {} });
    await engine.idle();
    stop();

    expect(execution.state.current).toBe('FAILED');
    expect(execution.taskRunList.find((t) => t.taskId === 'alert_on_failure')?.state.current).toBe('FAILED');
    expect(logs.some((m) => m.includes('status 500') && m.includes('internal_error'))).toBe(true);
    expect(logs.join('\n')).not.toContain('s3cr3t');
  });
});
