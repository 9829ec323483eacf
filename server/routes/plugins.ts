import { Hono } from 'hono';
import { commonProperties, findCatalogueEntry, flowJsonSchema, pluginCatalogue, suggestPluginType, type CatalogueEntry, type PluginKind } from '../../engine/index.ts';
import { HttpError } from '../errors.ts';

const KINDS: readonly PluginKind[] = ['task', 'trigger', 'condition', 'runner'];

/**
 * The plugin catalogue and the flow JSON Schema, read from the plugins' own definitions (issue #13):
 * `GET /api/v1/plugins[?kind=task|trigger|condition|runner]`, `GET /api/v1/plugins/{type}` (an older
 * name finds the current type) and `GET /api/v1/plugins/schemas/flow` for editors. Both are the same
 * for the life of the process, so each is built once, on first request.
 */
export function pluginRoutes(): Hono {
  const app = new Hono();
  let catalogue: CatalogueEntry[] | undefined;
  let schema: string | undefined;

  app.get('/api/v1/plugins', (c) => {
    const kind = c.req.query('kind');
    if (kind !== undefined && !KINDS.includes(kind as PluginKind)) {
      throw new HttpError(400, `unknown plugin kind '${kind}': one of ${KINDS.join(', ')}`);
    }
    catalogue ??= pluginCatalogue();
    return c.json(kind ? catalogue.filter((entry) => entry.kind === kind) : catalogue);
  });

  // Before /{type}: "schemas" is no plugin type.
  app.get('/api/v1/plugins/schemas/flow', (c) => {
    schema ??= JSON.stringify(flowJsonSchema());
    return c.body(schema, 200, { 'content-type': 'application/schema+json' });
  });

  app.get('/api/v1/plugins/:type', (c) => {
    const type = c.req.param('type');
    const entry = findCatalogueEntry(type);
    if (!entry) {
      const hint = suggestPluginType(type);
      throw new HttpError(404, `no plugin of type '${type}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    return c.json({ ...entry, commonProperties: commonProperties(entry.kind) });
  });

  return app;
}
