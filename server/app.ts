import { Hono } from 'hono';
import { apiTokenAuth } from './auth.ts';
import type { ServerDeps } from './deps.ts';
import { errorResponse } from './errors.ts';
import { executionRoutes } from './routes/executions.ts';
import { flowRoutes } from './routes/flows.ts';
import { gitHookRoutes } from './routes/git-hook.ts';
import { namespaceFileRoutes } from './routes/namespace-files.ts';
import { syncRoutes } from './routes/sync.ts';
import { uiRoutes } from './ui/index.ts';

/** The HTTP application: open health and Git hook, token-guarded `/api/*`. Tested with `app.request()`. */
export function createApp(deps: ServerDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err, (e) => deps.log?.('error', `unhandled: ${(e as Error).stack ?? e}`)));
  app.notFound((c) => c.json({ message: `no route for ${c.req.method} ${c.req.path}`, details: null }, 404));

  app.get('/healthz', (c) => c.json({ status: 'UP' }));
  app.route('/', gitHookRoutes(deps));

  app.use('/api/*', apiTokenAuth({ token: deps.apiToken }));
  app.route('/', flowRoutes(deps));
  app.route('/', namespaceFileRoutes(deps));
  app.route('/', syncRoutes(deps));
  app.route('/', executionRoutes(deps));

  app.route('/', uiRoutes(deps));
  return app;
}
