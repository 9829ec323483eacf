import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { isState, isTerminal, type Execution, type ExecutionRun, type StateType } from '../../engine/index.ts';
import { InputValidationError } from '../../engine/inputs/index.ts';
// SECRET inputs leave the server as `******` (issue #12, finding 5).
import { redactExecution } from '../../engine/index.ts';
import { isStorageError, isUnderPrefix, parseKestraUri } from '../../engine/storage/index.ts';
import { FlowNotFoundError } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { rethrowAsHttp } from './execution-errors.ts';
import { dateParam, formBody, jsonBody, optionalIntParam, pageParams } from './params.ts';
import { heartbeat, SSE_HEARTBEAT_MS, Wakeup } from './sse.ts';

/** How often a follower re-reads an execution that no engine in this process runs. */
const FOLLOW_POLL_MS = 1_000;
/** Changes queued for a slow follower beyond this are dropped, oldest first: each event is a full snapshot. */
const FOLLOW_BACKLOG = 50;

/** Kestra's `labels=key:value` query parameters. */
export function parseLabels(values: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values) {
    const colon = v.indexOf(':');
    if (colon <= 0) throw new HttpError(400, `label '${v}' must be key:value`);
    labels[v.slice(0, colon)] = v.slice(colon + 1);
  }
  return labels;
}

/** `state=FAILED&state=KILLED` or `state=FAILED,KILLED`; 400 listing unknown states. */
function statesParam(values: string[]): StateType[] | undefined {
  const states = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  if (states.length === 0) return undefined;
  const unknown = states.filter((s) => !isState(s));
  if (unknown.length) throw new HttpError(400, `unknown state ${unknown.map((s) => `'${s}'`).join(', ')}`, { states: unknown });
  return states as StateType[];
}

/** Executions: start, read, search, follow, kill, restart, replay, and their files. */
export function executionRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  const engine = deps.engine;

  /**
   * Starts `run` (here, or in a worker) and answers the execution at once, or once it has ended with
   * `?wait=true`. It is stored before this answers, so a crash after the answer loses nothing.
   */
  const start = async (c: Context, run: ExecutionRun) => {
    const id = run.execution.id;
    await engine.start(run, (err) => deps.log?.('error', `execution ${id} crashed: ${(err as Error).message}`));
    if (c.req.query('wait') === 'true') return c.json(redactExecution((await engine.awaitTerminal(id, c.req.raw.signal)) ?? run.execution));
    return c.json(redactExecution(run.execution));
  };

  const found = async (id: string): Promise<Execution> => {
    const execution = await engine.findExecution(id);
    if (!execution) throw new HttpError(404, `execution ${id} not found`);
    return execution;
  };

  // Literal routes first: `/search` is not an execution id.
  app.get('/api/v1/executions/search', async (c) => {
    const { results, total } = await engine.resources.repository.search({
      namespace: c.req.query('namespace') || undefined,
      flowId: c.req.query('flowId') || undefined,
      state: statesParam(c.req.queries('state') ?? []),
      startDate: dateParam(c.req.query('startDate'), 'startDate'),
      endDate: dateParam(c.req.query('endDate'), 'endDate'),
      labels: parseLabels(c.req.queries('labels') ?? []),
      ...pageParams(c),
      // Kestra's search returns every result's task runs.
      withTaskRuns: true,
    });
    return c.json({ results: results.map(redactExecution), total });
  });

  // Before `POST /executions/{namespace}/{flowId}`, which would otherwise take these two (as in
  // Kestra, a flow whose id is `restart` or `replay` cannot be started through this path).
  app.post('/api/v1/executions/:id/restart', async (c) => {
    const run = await engine.restart(c.req.param('id')).catch(rethrowAsHttp);
    return start(c, run);
  });

  app.post('/api/v1/executions/:id/replay', async (c) => {
    const taskRunId = c.req.query('taskRunId') || undefined;
    const run = await engine.replay(c.req.param('id'), { taskRunId }).catch(rethrowAsHttp);
    return start(c, run);
  });

  app.post('/api/v1/executions/:namespace/:flowId', async (c) => {
    const { namespace, flowId } = c.req.param();
    const revision = optionalIntParam(c.req.query('revision'), 'revision');
    const stored = await deps.flows.getFlow(namespace, flowId, { revision }).catch((err: unknown) => {
      if (err instanceof FlowNotFoundError) throw new HttpError(404, err.message);
      throw err;
    });
    if (stored.definition.disabled) throw new HttpError(409, `flow ${namespace}.${flowId} is disabled`);
    const inputs: Record<string, unknown> = {};
    const type = c.req.header('content-type') ?? '';
    if (type.startsWith('multipart/form-data') || type.startsWith('application/x-www-form-urlencoded')) {
      const form = await formBody(c);
      for (const [key, value] of Object.entries(form)) {
        const one = Array.isArray(value) ? value[0] : value;
        inputs[key] = one instanceof File ? { fileName: one.name, data: Buffer.from(await one.arrayBuffer()) } : one;
      }
    } else if (type.startsWith('application/json')) {
      const body = await jsonBody(c, 'the inputs');
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'inputs must be a JSON object');
      Object.assign(inputs, body);
    }
    let run;
    try {
      run = await engine.create({
        flow: stored.definition,
        revision: stored.revision,
        commitSha: stored.commit?.sha ?? null,
        inputs,
        labels: parseLabels(c.req.queries('labels') ?? []),
      });
    } catch (err) {
      if (err instanceof InputValidationError) {
        throw new HttpError(422, `invalid inputs for ${namespace}.${flowId}`, err.problems);
      }
      throw err;
    }
    return start(c, run);
  });

  app.get('/api/v1/executions/:id', async (c) => c.json(redactExecution(await found(c.req.param('id')))));

  app.delete('/api/v1/executions/:id/kill', async (c) => {
    const execution = await engine.requestKill(c.req.param('id')).catch(rethrowAsHttp);
    return c.json(redactExecution(execution), 202);
  });

  /**
   * Server-sent events, as Kestra's: one event per change with the whole execution as data and
   * `id: progress`, then `id: end` with the terminal execution, and the stream closes.
   */
  app.get('/api/v1/executions/:id/follow', async (c) => {
    const id = c.req.param('id');
    await found(id);
    return streamSSE(c, async (stream) => {
      const changes: Execution[] = [];
      const wakeup = new Wakeup();
      // Subscribed before the current state is read: no change can fall between the two.
      const stop = engine.onExecution((execution) => {
        if (execution.id !== id) return;
        changes.push(execution);
        if (changes.length > FOLLOW_BACKLOG) changes.shift();
        wakeup.wake();
      });
      stream.onAbort(() => wakeup.wake());
      try {
        let current = await engine.findExecution(id);
        let lastBeat = Date.now();
        let lastSent = '';
        while (current && !stream.aborted) {
          const terminal = isTerminal(current.state.current);
          lastSent = JSON.stringify(redactExecution(current));
          await stream.writeSSE({ id: terminal ? 'end' : 'progress', data: lastSent });
          if (terminal) return;
          let next: Execution | undefined;
          while (!next && !stream.aborted) {
            next = changes.shift();
            if (next) break;
            const runsHere = engine.isRunningHere(id);
            await wakeup.wait(runsHere ? SSE_HEARTBEAT_MS : FOLLOW_POLL_MS);
            next = changes.shift();
            // Not run by this process (another one, or orphaned): the database is the only source.
            if (!next && !engine.isRunningHere(id)) {
              const stored = await engine.resources.repository.findExecution(id);
              if (!stored) return;
              if (JSON.stringify(redactExecution(stored)) !== lastSent) next = stored;
            }
            if (!next && Date.now() - lastBeat >= SSE_HEARTBEAT_MS) {
              await heartbeat(stream);
              lastBeat = Date.now();
            }
          }
          current = next;
        }
      } finally {
        stop();
      }
    });
  });

  /**
   * One file of the execution's internal storage (`?path=kestra:///…`), streamed as an attachment.
   * Only the execution's own files (and those it may read: its parent's, the ones it replays) are
   * served; any other URI is refused before storage is touched.
   */
  app.get('/api/v1/executions/:id/file', async (c) => {
    const execution = await found(c.req.param('id'));
    const raw = c.req.query('path');
    if (!raw) throw new HttpError(400, "query parameter 'path' is required (a kestra:/// URI)");
    let uri: string;
    let name: string;
    try {
      const parsed = parseKestraUri(raw);
      uri = parsed.uri;
      name = parsed.segments[parsed.segments.length - 1] ?? '';
    } catch (err) {
      if (isStorageError(err)) throw new HttpError(400, `invalid path: ${err.message}`);
      throw err;
    }
    const allowed = await engine.readablePrefixesOf(execution);
    if (!allowed.some((prefix) => isUnderPrefix(uri, prefix))) {
      throw new HttpError(403, `'${raw}' is not a file of execution ${execution.id}`);
    }
    const storage = engine.resources.storage;
    let size: number;
    let body: Readable;
    try {
      size = await storage.size(uri);
      body = await storage.get(uri);
    } catch (err) {
      if (isStorageError(err, 'NOT_FOUND')) throw new HttpError(404, `file '${raw}' not found`);
      if (isStorageError(err)) throw new HttpError(400, err.message);
      throw err;
    }
    return c.body(Readable.toWeb(body) as ReadableStream, 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(size),
      'content-disposition': contentDisposition(name),
    });
  });

  return app;
}

/** `attachment` with an ASCII fallback name and the exact one (RFC 6266 / 5987). */
export function contentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
