import { serve, type ServerType } from '@hono/node-server';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../db/index.ts';
import type { Engine, Execution } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { executionsOf, flowEngine, FlowPublisher, testApp } from './support.ts';

const KEY = 'k3y-from-a-secret';

const flow = (id: string, trigger: string, options: { tasks?: string; extra?: string } = {}) =>
  [
    `id: ${id}`,
    'namespace: tests.webhooks',
    ...(options.extra ? [options.extra] : []),
    'tasks:',
    options.tasks ?? '  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: called',
    'triggers:',
    '  - id: hook',
    '    type: io.kestra.plugin.core.trigger.Webhook',
    ...trigger.split('\n').map((line) => `    ${line}`),
    '',
  ].join('\n');

const FLOWS = [
  flow('echo', `key: "{{ secret('WEBHOOK_KEY') }}"\ninputs:\n  who: "{{ trigger.body.name }}"\nlabels:\n  source: webhook`, {
    extra: 'inputs:\n  - id: who\n    type: STRING',
    tasks: '  - id: echo\n    type: io.kestra.plugin.core.debug.Return\n    format: "{{ inputs.who }} {{ trigger.body.items | length }} {{ trigger.parameters.p | join(\'+\') }} {{ trigger.headers[\'x-tag\'] | join(\'+\') }}"',
  }),
  flow('raw', 'key: raw-key'),
  flow('answer', 'key: answer-key\nwait: true\nreturnOutputs: true', {
    tasks: '  - id: hello\n    type: io.kestra.plugin.core.debug.Return\n    format: "hello {{ trigger.parameters.name[0] }}"',
    extra: 'outputs:\n  - id: greeting\n    type: STRING\n    value: "{{ outputs.hello.value }}"',
  }),
  flow('finished', 'key: finished-key\nwait: true', { tasks: '  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.2S' }),
  flow('failing', 'key: failing-key\nwait: true', { tasks: '  - id: boom\n    type: io.kestra.plugin.core.execution.Fail\n    errorMessage: no' }),
  flow(
    'guarded',
    'key: guarded-key\nconditions:\n  - type: io.kestra.plugin.core.condition.Expression\n    expression: "{{ trigger.body.go }}"\n  - type: io.kestra.plugin.core.condition.ExecutionStatus\n    in: [CREATED]',
  ),
  flow('broken', 'key: broken-key\ninputs:\n  who: "{{ trigger.body.nothing.here }}"', { extra: 'inputs:\n  - id: who\n    type: STRING\n    required: false' }),
  flow('switched-off', 'key: off-key\ndisabled: true'),
  flow('flow-off', 'key: flow-off-key', { extra: 'disabled: true' }),
  'id: no-hook\nnamespace: tests.webhooks\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n',
];

describeEachDatabase('flow webhooks over HTTP', (open) => {
  let database: Database;
  let engine: Engine;
  let server: ServerType;
  let base: string;

  const hook = (path: string, init: RequestInit = {}) => fetch(`${base}/api/v1/executions/webhook/tests.webhooks/${path}`, init);
  const settled = async (id: string): Promise<Execution> => {
    await engine.settled(id);
    return (await engine.findExecution(id))!;
  };

  beforeAll(async () => {
    database = await open();
    await new FlowPublisher(database.db).only(...FLOWS);
    engine = await flowEngine(database.db, { SECRET_WEBHOOK_KEY: Buffer.from(KEY).toString('base64') });
    const app = await testApp(database.db, engine);
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await engine?.idle();
  });

  it('starts an execution with trigger.body, headers and parameters; the key comes from a secret; no API token needed', async () => {
    const res = await hook(`echo/${KEY}?p=1&p=two`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tag': 'blue' },
      body: JSON.stringify({ name: 'Ada', items: [1, 2, 3] }),
    });
    expect(res.status).toBe(200);
    const created = (await res.json()) as Execution;
    expect(created.namespace).toBe('tests.webhooks');
    expect(created.flowId).toBe('echo');
    expect(created.trigger).toMatchObject({
      id: 'hook',
      type: 'io.kestra.plugin.core.trigger.Webhook',
      body: { name: 'Ada', items: [1, 2, 3] },
      parameters: { p: ['1', 'two'] },
      headers: expect.objectContaining({ 'x-tag': ['blue'], 'content-type': ['application/json'] }),
    });
    expect(created.inputs).toEqual({ who: 'Ada' });
    expect(created.labels).toEqual(expect.arrayContaining([{ key: 'source', value: 'webhook' }]));
    const done = await settled(created.id);
    expect(done.state.current).toBe('SUCCESS');
    expect(done.taskRunList[0].outputs?.value).toBe('Ada 3 1+two blue');
  });

  it('keeps every value of a repeated header; a body that is not a JSON object or array stays text (GET and PUT too)', async () => {
    const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${base}/api/v1/executions/webhook/tests.webhooks/raw/raw-key?x=1`,
        { method: 'PUT', headers: { 'x-tag': ['a', 'b'], 'content-type': 'text/plain' } },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end('42');
    });
    expect(status.code).toBe(200);
    const put = JSON.parse(status.body) as Execution;
    expect(put.trigger).toMatchObject({ body: '42', parameters: { x: ['1'] }, headers: expect.objectContaining({ 'x-tag': ['a', 'b'] }) });

    const get = (await (await hook('raw/raw-key')).json()) as Execution;
    expect(get.trigger).toMatchObject({ body: null, parameters: {} });
    const notJson = (await (await hook('raw/raw-key', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' })).json()) as Execution;
    expect(notJson.trigger?.body).toBe('{oops');
    await Promise.all([put.id, get.id, notJson.id].map(settled));
  });

  it('answers 404 with the same body for an unknown flow, a flow without the trigger, a wrong key, and a disabled trigger or flow', async () => {
    const answers = await Promise.all(
      ['nope/raw-key', 'no-hook/raw-key', 'raw/wrong-key', `raw/${KEY}`, 'switched-off/off-key', 'flow-off/flow-off-key'].map(async (path) => {
        const res = await hook(path, { method: 'POST', body: '{}' });
        return `${res.status} ${await res.text()}`;
      }),
    );
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toBe('404 {"message":"webhook not found","details":null}');
    const other = await fetch(`${base}/api/v1/executions/webhook/elsewhere/raw/raw-key`);
    expect(`${other.status} ${await other.text()}`).toBe(answers[0]);
    expect(await executionsOf(database.db, 'switched-off')).toEqual([]);
    expect(await executionsOf(database.db, 'flow-off')).toEqual([]);
  });

  it('answers 204 and starts nothing when the conditions do not hold', async () => {
    const no = await hook('guarded/guarded-key', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"go": false}' });
    expect(no.status).toBe(204);
    expect(await no.text()).toBe('');
    expect(await executionsOf(database.db, 'guarded')).toEqual([]);
    const yes = await hook('guarded/guarded-key', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"go": true}' });
    expect(yes.status).toBe(200);
    await settled(((await yes.json()) as Execution).id);
    expect(await executionsOf(database.db, 'guarded')).toHaveLength(1);
  });

  it('refuses a body over 10 MiB with 413, and inputs that cannot be rendered with 422', async () => {
    const big = await hook('raw/raw-key', { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1, 'a') });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { message: string }).message).toContain('exceeds the limit of 10485760 bytes (raise it with BATON_LIMIT_REQUEST_BODY_BYTES)');
    const atCap = await hook('raw/raw-key', { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024, 'a') });
    expect(atCap.status).toBe(200);
    await settled(((await atCap.json()) as Execution).id);

    const broken = await hook('broken/broken-key', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(broken.status).toBe(422);
    expect(((await broken.json()) as { message: string }).message).toContain("inputs of trigger 'hook' could not be rendered");
    expect(await executionsOf(database.db, 'broken')).toEqual([]);
  });

  it('with wait, answers once the execution ended: its outputs (returnOutputs), the execution, or 500 when it failed', async () => {
    const answer = await hook('answer/answer-key?name=Grace');
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ greeting: 'hello Grace' });

    const finished = await hook('finished/finished-key', { method: 'POST' });
    expect(finished.status).toBe(200);
    const execution = (await finished.json()) as Execution;
    expect(execution.state.current).toBe('SUCCESS');
    expect(execution.taskRunList.map((t) => t.state.current)).toEqual(['SUCCESS']);

    const failing = await hook('failing/failing-key', { method: 'POST' });
    expect(failing.status).toBe(500);
    expect(((await failing.json()) as Execution).state.current).toBe('FAILED');
  });
});
