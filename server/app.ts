import { Hono } from 'hono';
import { apiAuth, dashboardAuth, sessionCookie, Sessions } from './auth.ts';
import type { ServerDeps } from './deps.ts';
import { errorResponse } from './errors.ts';
import { executionRoutes } from './routes/executions.ts';
import { flowRoutes } from './routes/flows.ts';
import { gitHookRoutes } from './routes/git-hook.ts';
import { kvRoutes } from './routes/kv.ts';
import { logRoutes } from './routes/logs.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { namespaceFileRoutes } from './routes/namespace-files.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { syncRoutes } from './routes/sync.ts';
import { triggerRoutes } from './routes/triggers.ts';
import { webhookTriggerRoutes } from './routes/webhook-trigger.ts';
import { uiRoutes } from './ui/index.ts';

/**
 * The HTTP application: open health and Git hook, `/api/*` behind a token or a dashboard session,
 * `/ui/*` behind the admin login (open on loopback without credentials). Tested with `app.request()`.
 */
export function createApp(deps: ServerDeps): Hono {
  const app = new Hono();
  const sessions = new Sessions({ apiToken: deps.apiToken, admin: deps.admin, secret: deps.sessionSecret, loopback: deps.loopback });
  app.onError((err, c) => errorResponse(c, err, (e) => deps.log?.('error', `unhandled: ${(e as Error).stack ?? e}`)));
  app.notFound((c) => c.json({ message: `no route for ${c.req.method} ${c.req.path}`, details: null }, 404));

  app.use('*', sessionCookie(sessions));
  app.get('/healthz', (c) => c.json({ status: 'UP' }));
  app.route('/', gitHookRoutes(deps));
  // Flow webhooks are open (their key is the credential): registered before the API guard.
  app.route('/', webhookTriggerRoutes(deps));

  app.use('/api/*', apiAuth(sessions));
  // Same credentials as the API (see metricsRoutes for why metrics are not open).
  app.use('/metrics', apiAuth(sessions));
  app.use('/ui/*', dashboardAuth(sessions));
  app.route('/', metricsRoutes(deps));
  app.route('/', flowRoutes(deps));
  app.route('/', namespaceFileRoutes(deps));
  app.route('/', syncRoutes(deps));
  app.route('/', executionRoutes(deps));
  app.route('/', logRoutes(deps));
  app.route('/', kvRoutes(deps));
  app.route('/', triggerRoutes(deps));
  app.route('/', openApiRoutes());

  app.route('/', uiRoutes(deps, { sessions, hasRoute: (method, path) => app.routes.some((r) => r.method === method && r.path === path) }));
  return app;
}
