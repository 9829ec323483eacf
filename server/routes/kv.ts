import { Hono } from 'hono';
import { KV_TYPES, KvError, KvKeyExistsError, type KvEntry, type KvType } from '../../engine/kv/index.ts';
import type { ServerDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { echo, namespaceParam, refuseUnstorable, textBody } from './params.ts';

/** Kestra's KVEntry in listings: everything but the value. */
function entryJson(entry: KvEntry) {
  return {
    key: entry.key,
    type: entry.type,
    description: entry.description ?? null,
    expirationDate: entry.expirationDate ?? null,
    updateDate: entry.updateDate,
  };
}

/** KV store errors are the caller's: a bad key, value, type or ttl is 400, an existing key 409. */
function rethrowKv(err: unknown): never {
  if (err instanceof KvKeyExistsError) throw new HttpError(409, err.message);
  if (err instanceof KvError) throw new HttpError(400, err.message);
  throw err;
}

/**
 * The KV store of a namespace, as Kestra's `/namespaces/{ns}/kv`. A namespace that no flow could
 * have (Kestra's namespace rule) is a 400, so no entry is ever stored where nothing can read it. PUT takes a JSON body (its JSON
 * type gives the KV type: string, number, boolean, object or array) or text/plain (a STRING); the
 * `ttl` header is an ISO-8601 duration and `description` a note, as in Kestra. A `type` header
 * (Baton's addition) asks for a type JSON cannot carry: DATETIME, DATE or DURATION.
 */
export function kvRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  const kv = deps.engine.resources.kv;

  app.get('/api/v1/namespaces/:namespace/kv', async (c) => {
    const entries = await kv.list(namespaceParam(c.req.param('namespace'))).catch(rethrowKv);
    return c.json(entries.map(entryJson));
  });

  app.get('/api/v1/namespaces/:namespace/kv/:key', async (c) => {
    const { key } = c.req.param();
    const namespace = namespaceParam(c.req.param('namespace'));
    const entry = await kv.get(namespace, key).catch(rethrowKv);
    if (!entry) throw new HttpError(404, `no value found for key '${key}' in namespace '${namespace}'`);
    return c.json({ type: entry.type, value: entry.value });
  });

  app.put('/api/v1/namespaces/:namespace/kv/:key', async (c) => {
    const { key } = c.req.param();
    const namespace = namespaceParam(c.req.param('namespace'));
    const contentType = (c.req.header('content-type') ?? 'text/plain').toLowerCase();
    const text = await textBody(c, 'the value');
    let value: unknown;
    if (contentType.startsWith('application/json')) {
      try {
        value = JSON.parse(text);
      } catch {
        throw new HttpError(400, `the body is not valid JSON (send Content-Type: text/plain to store it as a STRING)`);
      }
      refuseUnstorable(value, 'the value');
    } else if (contentType.startsWith('text/')) {
      value = text;
    } else {
      throw new HttpError(415, `KV values are sent as application/json or text/plain, not '${echo(contentType)}'`);
    }
    const typeHeader = c.req.header('type');
    let type: KvType | undefined;
    if (typeHeader) {
      type = typeHeader.toUpperCase() as KvType;
      if (!KV_TYPES.includes(type)) throw new HttpError(400, `header 'type' must be one of ${KV_TYPES.join(', ')}, got '${echo(typeHeader)}'`);
    } else if (!contentType.startsWith('application/json')) {
      type = 'STRING';
    }
    const entry = await kv
      .set(namespace, key, value, { type, ttl: c.req.header('ttl') || undefined, description: c.req.header('description') || undefined })
      .catch(rethrowKv);
    return c.json({ ...entryJson(entry), value: entry.value });
  });

  app.delete('/api/v1/namespaces/:namespace/kv/:key', async (c) => {
    const { key } = c.req.param();
    const namespace = namespaceParam(c.req.param('namespace'));
    const deleted = await kv.delete(namespace, key).catch(rethrowKv);
    if (!deleted) throw new HttpError(404, `no value found for key '${key}' in namespace '${namespace}'`);
    return c.json(true);
  });

  return app;
}
