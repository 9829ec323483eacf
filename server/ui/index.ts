import { Hono } from 'hono';
import type { AuthGuard } from '../auth.ts';
import type { ServerDeps } from '../deps.ts';
import { authPages } from './auth.ts';
import { executionPages } from './executions.ts';
import { filePages } from './files.ts';
import { flowPages } from './flows.ts';
import { kvPages } from './kv.ts';
import { staticRoutes } from './static.ts';
import { syncPages } from './sync.ts';

/** What the dashboard needs from the app besides its deps. */
export interface UiSetup {
  /** Sessions, lockouts and the client address (login and logout use them). */
  guard: AuthGuard;
  /** True when the app serves `method path` (pages degrade when an API route is not there yet). */
  hasRoute(method: string, path: string): boolean;
}

/**
 * The dashboard: server-rendered nunjucks pages under /ui, htmx fragments when `HX-Request` is set.
 * Each area is its own file of routes with its own templates in `views/`.
 */
export function uiRoutes(deps: ServerDeps, setup: UiSetup): Hono {
  const app = new Hono();
  app.route('/', staticRoutes());
  app.get('/', (c) => c.redirect('/ui/flows'));
  app.get('/ui', (c) => c.redirect('/ui/flows'));
  app.route('/', authPages(setup.guard));
  app.route('/', flowPages(deps, setup));
  app.route('/', kvPages(deps));
  app.route('/', filePages(deps));
  app.route('/', syncPages(deps));
  app.route('/', executionPages(deps));
  return app;
}
