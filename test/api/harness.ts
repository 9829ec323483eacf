/**
 * The whole HTTP app on one database, without Git: flows are published with `applyCommit`, as a
 * sync would after reading them from a commit. The syncer is built (the app needs one) but never
 * started, so no test here depends on a Git server.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { expect } from 'vitest';
import type { Database, Db } from '../../db/index.ts';
import { createEngine, isTerminal, type Engine, type Execution } from '../../engine/index.ts';
import { formatProblem, validateFlowSource } from '../../engine/flow/index.ts';
import { createApp, type ServerDeps } from '../../server/index.ts';
import { applyCommit } from '../../sync/apply.ts';
import { createSyncer, FlowStore, syncConfigFromEnv } from '../../sync/index.ts';

export const API_TOKEN = 'api-test-token';

export interface ApiHarness {
  app: Hono;
  db: Db;
  engine: Engine;
  /** `app.request` with the API token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Makes these flows (YAML sources) live, next to the ones published before. */
  publish(...sources: string[]): Promise<void>;
  /** Deletes a flow, as a commit without its file would. */
  unpublish(namespace: string, id: string): Promise<void>;
  /** Polls the API until the execution satisfies `done` (default: terminal). */
  waitForExecution(id: string, done?: (e: Execution) => boolean, timeoutMs?: number): Promise<Execution>;
}

/**
 * `engineEnv`: the engine's environment (e.g. BATON_ENCRYPTION_KEY, SECRET_*); none by default.
 * `server`: what `baton server` would pass differently (credentials, host policy, log…), over the defaults.
 */
export async function openApiHarness(
  open: () => Promise<Database>,
  options: { engineEnv?: Record<string, string>; server?: Partial<ServerDeps> } = {},
): Promise<ApiHarness> {
  const { db } = await open();
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-api-'));
  const flows = new FlowStore(db);
  const engine = createEngine({ db, dataDir, flows: flows.flowSource(), namespaceFiles: flows.namespaceFiles(), env: options.engineEnv ?? {} });
  const env = { BATON_GIT_URL: 'http://127.0.0.1:9/never-fetched.git', BATON_GIT_BRANCH: 'main', BATON_SYNC_POLL_SECONDS: '0' };
  const config = syncConfigFromEnv(env);
  const syncer = await createSyncer({ db, config, dataDir, env });
  const app = createApp({ db, engine, flows, syncer, sync: config, branch: 'main', repository: 'test', apiToken: API_TOKEN, ...options.server });
  const published = new Map<string, string>();
  let commits = 0;

  const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
    app.request(path, { ...init, headers: { authorization: `Bearer ${API_TOKEN}`, ...(init.headers as Record<string, string> | undefined) } });

  /** A commit holds every flow: the ones it lacks are deleted. */
  const commit = async () => {
    commits++;
    await applyCommit(db, {
      commit: { sha: commits.toString(16).padStart(40, '0'), author: 'Test', email: 'test@example.com', message: `commit ${commits}`, date: new Date().toISOString() },
      flows: [...published.entries()].map(([key, source]) => ({ path: `flows/${key}.yaml`, source, definition: validateFlowSource(source).flow! })),
      files: [],
      repository: 'test',
      branch: 'main',
      reason: 'test',
      startedAt: new Date(),
    });
  };

  return {
    app,
    db,
    engine,
    api,
    async publish(...sources) {
      for (const source of sources) {
        const { flow, problems } = validateFlowSource(source);
        const errors = problems.filter((p) => p.severity === 'error');
        if (!flow || errors.length) throw new Error(`invalid test flow:\n${errors.map(formatProblem).join('\n')}`);
        published.set(`${flow.namespace}/${flow.id}`, source);
      }
      await commit();
    },
    async unpublish(namespace, id) {
      published.delete(`${namespace}/${id}`);
      await commit();
    },
    async waitForExecution(id, done = (e) => isTerminal(e.state.current), timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await api(`/api/v1/executions/${id}`);
        expect(res.status).toBe(200);
        const execution = (await res.json()) as Execution;
        if (done(execution)) return execution;
        if (Date.now() > deadline) throw new Error(`timed out waiting for execution ${id} (state ${execution.state.current})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/** A JSON request body. */
export function jsonBody(value: unknown, method = 'POST'): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/**
 * Reads server-sent events from a response until the server closes the stream, or until `stop`
 * returns true for an event (then the connection is dropped, as a client going away would).
 */
export async function readEvents(response: Response, stop?: (event: SseEvent, all: SseEvent[]) => boolean, timeoutMs = 20_000): Promise<SseEvent[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  const timer = setTimeout(() => void reader.cancel(new Error('timed out')), timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return events;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { data: '' };
        const data: string[] = [];
        let fields = 0;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          fields++;
          if (field === 'data') data.push(text);
          else if (field === 'id') event.id = text;
          else if (field === 'event') event.event = text;
        }
        if (fields === 0) continue;
        event.data = data.join('\n');
        events.push(event);
        if (stop?.(event, events)) {
          await reader.cancel();
          return events;
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `probe` returns a value (polling). */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
