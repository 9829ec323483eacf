import { Hono } from 'hono';
import type { ServerDeps } from '../deps.ts';
import { staticRoutes } from './static.ts';

/**
 * The dashboard: server-rendered nunjucks pages under /ui, htmx fragments when `HX-Request` is set.
 * Each area is its own file of routes with its own templates in `views/`.
 */
export function uiRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  app.route('/', staticRoutes());
  app.get('/', (c) => c.redirect('/ui/flows'));
  app.get('/ui', (c) => c.redirect('/ui/flows'));
  void deps;
  return app;
}
