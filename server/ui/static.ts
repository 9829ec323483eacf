import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Hono } from 'hono';

const require = createRequire(import.meta.url);

/** htmx from node_modules (no CDN) and the dashboard's stylesheet, cached by the browser. */
export function staticRoutes(): Hono {
  const app = new Hono();
  const files: Record<string, { path: string; type: string }> = {
    'htmx.min.js': { path: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
    'baton.css': { path: join(import.meta.dirname, '..', '..', 'views', 'static', 'baton.css'), type: 'text/css; charset=utf-8' },
    'execution.js': { path: join(import.meta.dirname, '..', '..', 'views', 'static', 'execution.js'), type: 'text/javascript; charset=utf-8' },
  };
  const cache = new Map<string, Buffer>();
  app.get('/static/:file', async (c) => {
    const file = files[c.req.param('file')];
    if (!file) return c.json({ message: 'not found', details: null }, 404);
    let body = cache.get(file.path);
    if (!body) cache.set(file.path, (body = await readFile(file.path)));
    return c.body(new Uint8Array(body), 200, { 'content-type': file.type, 'cache-control': 'public, max-age=3600' });
  });
  return app;
}
