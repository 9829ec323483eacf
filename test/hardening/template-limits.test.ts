/**
 * Issue #12, finding 1: one webhook call killed the server. A flow that renders its webhook body
 * (`message: "{{ render(trigger.body.greeting) }}"`) receiving a greeting that renders itself ran
 * the process out of memory, `allowFailure` or not, and anyone holding only the webhook key could
 * send it. Here the real app and engine take that exact call: the task fails with a message naming
 * the limit and its variable, the execution ends, and the server keeps answering — also while a
 * body that loops for ever is being rendered. Before the fix this suite never returned: the first
 * call filled the heap of the process running it.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../db/index.ts';
import type { Engine, Execution } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { API_TOKEN, FlowPublisher, flowEngine, testApp } from '../triggers/support.ts';

const SELF_RENDERING = '{{ render(trigger.body.greeting) }}';
/** A trillion loop iterations: only the time limit ends it. */
const ENDLESS = '{% for i in range(1, 10000) %}{% for j in range(1, 10000) %}{% for k in range(1, 10000) %}{% endfor %}{% endfor %}{% endfor %}';
/** Set low so the endless body is stopped within the test; the depth limit keeps its default. */
const EVAL_MS = 1500;

const greetFlow = (id: string, allowFailure: boolean) =>
  [
    `id: ${id}`,
    'namespace: tests.hardening',
    'tasks:',
    '  - id: hello',
    '    type: io.kestra.plugin.core.log.Log',
    ...(allowFailure ? ['    allowFailure: true'] : []),
    `    message: "${SELF_RENDERING}"`,
    '  - id: after',
    '    type: io.kestra.plugin.core.log.Log',
    '    message: still here',
    'triggers:',
    '  - id: hook',
    '    type: io.kestra.plugin.core.trigger.Webhook',
    `    key: ${id}-key`,
    '',
  ].join('\n');

describeEachDatabase('a webhook body that renders itself', (open) => {
  let database: Database;
  let engine: Engine;
  let server: ServerType;
  let base: string;

  const call = async (flowId: string, body: unknown): Promise<Execution> => {
    const res = await fetch(`${base}/api/v1/executions/webhook/tests.hardening/${flowId}/${flowId}-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Execution;
  };
  const settled = async (id: string): Promise<Execution> => {
    await engine.settled(id);
    return (await engine.findExecution(id))!;
  };
  const logsOf = async (id: string, taskId: string): Promise<string[]> => {
    const res = await fetch(`${base}/api/v1/logs/${id}?taskId=${taskId}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { message: string }[]).map((l) => l.message);
  };
  const healthy = async (): Promise<boolean> => (await fetch(`${base}/healthz`)).status === 200;

  beforeAll(async () => {
    database = await open();
    await new FlowPublisher(database.db).only(greetFlow('greet', false), greetFlow('greet-tolerant', true));
    engine = await flowEngine(database.db, { BATON_LIMIT_TEMPLATE_EVAL_MS: String(EVAL_MS) });
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

  it('renders a greeting that is a plain template', async () => {
    const done = await settled((await call('greet', { greeting: 'hello {{ trigger.body.name }}', name: 'Ada' })).id);
    expect(done.state.current).toBe('SUCCESS');
    expect(await logsOf(done.id, 'hello')).toEqual(['hello Ada']);
  });

  it('fails the task with the render depth limit and its variable; the server answers afterwards', async () => {
    const done = await settled((await call('greet', { greeting: SELF_RENDERING })).id);
    expect(done.state.current).toBe('FAILED');
    expect(done.taskRunList.map((t) => [t.taskId, t.state.current])).toEqual([['hello', 'FAILED']]);
    expect(await logsOf(done.id, 'hello')).toEqual([
      "render() nested 11 deep in the template '{{ render(trigger.body.greeting) }}' (rendered text that calls render() again): " +
        'exceeds the limit of 10 (raise it with BATON_LIMIT_TEMPLATE_RENDER_DEPTH)',
    ]);
    expect(await healthy()).toBe(true);
  });

  it('with allowFailure, the task fails the same way and the flow goes on', async () => {
    const done = await settled((await call('greet-tolerant', { greeting: SELF_RENDERING })).id);
    expect(done.state.current).toBe('WARNING');
    expect(done.taskRunList.map((t) => [t.taskId, t.state.current])).toEqual([['hello', 'WARNING'], ['after', 'SUCCESS']]);
    expect((await logsOf(done.id, 'hello'))[0]).toContain('BATON_LIMIT_TEMPLATE_RENDER_DEPTH');
    expect(await healthy()).toBe(true);
  });

  it('stops a body that loops for ever at the configured time limit, answering /healthz while it runs', async () => {
    const started = await call('greet', { greeting: ENDLESS });
    // Once the task runs, its render is under way (or over, if the process could not answer before).
    for (;;) {
      const now = (await engine.findExecution(started.id))!;
      if (now.state.current !== 'CREATED' && now.taskRunList.some((t) => t.taskId === 'hello' && t.state.current !== 'CREATED')) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await healthy()).toBe(true);
    const answeredAt = Date.now();
    const done = await settled(started.id);
    expect(done.state.current).toBe('FAILED');
    const res = await fetch(`${base}/api/v1/logs/${done.id}?taskId=hello`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    const [failure] = (await res.json()) as { message: string; timestamp: string }[];
    expect(failure.message).toMatch(
      /^rendering the template '\{\{ render\(trigger\.body\.greeting\) \}\}' took \d+ ms: exceeds the limit of 1500 ms \(raise it with BATON_LIMIT_TEMPLATE_EVAL_MS\)$/,
    );
    // The render hands the event loop back: the probe was answered before the render failed.
    expect(answeredAt).toBeLessThan(Date.parse(failure.timestamp));
    expect(await healthy()).toBe(true);
  });
});
