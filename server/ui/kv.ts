import { Hono, type Context } from 'hono';
import { KvError, type KvEntry } from '../../engine/kv/index.ts';
import type { ServerDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { formBody, namespaceParam } from '../routes/params.ts';
import { formatTime } from './formatting.ts';
import { isHtmx, page } from './render.ts';

const PREVIEW_CHARS = 200;

/** The KV store of a namespace: keys with type, a value preview and expiration; delete (CSRF-checked). */
export function kvPages(deps: ServerDeps): Hono {
  const app = new Hono();
  const kv = () => deps.engine.resources.kv;

  const render = async (c: Context, namespace: string | undefined, extra: Record<string, unknown> = {}) => {
    const namespaces = await deps.flows.namespaces();
    const selected = namespace ?? namespaces[0];
    try {
      if (selected) namespaceParam(selected, 'the namespace');
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      c.status(400);
      return page(c, 'pages/kv.njk', { namespaces, namespace: selected, entries: [], ...extra, error: err.message }, 'fragments/kv-list.njk');
    }
    const entries = selected ? (await kv().list(selected)).map(entryView) : [];
    return page(c, 'pages/kv.njk', { namespaces, namespace: selected, entries, ...extra }, 'fragments/kv-list.njk');
  };

  app.get('/ui/kv', (c) => render(c, c.req.query('namespace')?.trim() || undefined));

  app.post('/ui/kv/delete', async (c) => {
    const form = await formBody(c);
    const namespace = typeof form.namespace === 'string' ? form.namespace : '';
    const key = typeof form.key === 'string' ? form.key : '';
    let message: string;
    try {
      namespaceParam(namespace, 'the namespace');
      message = (await kv().delete(namespace, key)) ? `Deleted '${key}'.` : `'${key}' was already gone.`;
    } catch (err) {
      if (!(err instanceof KvError) && !(err instanceof HttpError)) throw err;
      c.status(400);
      return render(c, namespace || undefined, { error: err.message });
    }
    if (!isHtmx(c)) return c.redirect(`/ui/kv?namespace=${encodeURIComponent(namespace)}`, 303);
    return render(c, namespace, { message });
  });
  return app;
}

function entryView(entry: KvEntry) {
  const text = typeof entry.value === 'string' ? entry.value : JSON.stringify(entry.value);
  return {
    key: entry.key,
    type: entry.type,
    preview: text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text,
    truncated: text.length > PREVIEW_CHARS,
    description: entry.description,
    expires: formatTime(entry.expirationDate),
    updated: formatTime(entry.updateDate),
  };
}
