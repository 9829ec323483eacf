import { Hono } from 'hono';
import { apiAuth, dashboardAuth, sessionCookie, Sessions, type AuthGuard } from './auth.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { bodyLimits } from './body-limit.ts';
import { clientAddress } from './client-address.ts';
import type { ServerDeps } from './deps.ts';
import { errorResponse } from './errors.ts';
import { defaultHostPolicy, hostGuard } from './host-guard.ts';
import { executionRoutes } from './routes/executions.ts';
import { flowRoutes } from './routes/flows.ts';
import { gitHookRoutes } from './routes/git-hook.ts';
import { kvRoutes } from './routes/kv.ts';
import { logRoutes } from './routes/logs.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { namespaceFileRoutes } from './routes/namespace-files.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { pluginRoutes } from './routes/plugins.ts';
import { wellFormedUrl } from './routes/params.ts';
import { syncRoutes } from './routes/sync.ts';
import { triggerRoutes } from './routes/triggers.ts';
import { webhookTriggerRoutes } from './routes/webhook-trigger.ts';
import { securityHeaders } from './security-headers.ts';
import { uiRoutes } from './ui/index.ts';

/**
 * The HTTP application: open health and Git hook, `/api/*` behind a token or a dashboard session,
 * `/ui/*` behind the admin login (open on loopback without credentials). Tested with `app.request()`.
 * Before any route: security headers on every answer, the Host/Origin check, a URL that decodes,
 * and the body limits.
 */
export function createApp(deps: ServerDeps): Hono {
  const app = new Hono();
  const limits = deps.engine.resources.limits;
  const sessions = new Sessions({ db: deps.db, apiToken: deps.apiToken, admin: deps.admin, secret: deps.sessionSecret, loopback: deps.loopback });
  const throttle = new AuthThrottle(limits);
  const trustedProxies = new Set(deps.trustedProxies ?? []);
  const guard: AuthGuard = { sessions, throttle, addressOf: (c) => clientAddress(c, trustedProxies), log: deps.log };
  app.onError((err, c) => errorResponse(c, err, (e) => deps.log?.('error', `unhandled: ${(e as Error).stack ?? e}`)));
  app.notFound((c) => c.json({ message: `no route for ${c.req.method} ${c.req.path}`, details: null }, 404));

  app.use('*', securityHeaders());
  app.use('*', hostGuard(deps.hosts ?? defaultHostPolicy(deps.loopback ?? true)));
  app.use('*', wellFormedUrl());
  app.use('*', bodyLimits(limits));
  app.use('*', sessionCookie(sessions));
  app.get('/healthz', (c) => c.json({ status: 'UP' }));
  app.route('/', gitHookRoutes(deps, throttle.counters));
  // Flow webhooks are open (their key is the credential): registered before the API guard.
  app.route('/', webhookTriggerRoutes(deps));

  app.use('/api/*', apiAuth(guard));
  // Same credentials as the API (see metricsRoutes for why metrics are not open).
  app.use('/metrics', apiAuth(guard));
  app.use('/ui/*', dashboardAuth(sessions));
  app.route('/', metricsRoutes(deps, throttle.counters));
  app.route('/', flowRoutes(deps));
  app.route('/', namespaceFileRoutes(deps));
  app.route('/', syncRoutes(deps));
  app.route('/', executionRoutes(deps));
  app.route('/', logRoutes(deps));
  app.route('/', kvRoutes(deps));
  app.route('/', triggerRoutes(deps));
  app.route('/', openApiRoutes());
  app.route('/', pluginRoutes());

  app.route('/', uiRoutes(deps, { guard, hasRoute: (method, path) => app.routes.some((r) => r.method === method && r.path === path) }));
  return app;
}
