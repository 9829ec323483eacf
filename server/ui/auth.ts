import { Hono, type Context } from 'hono';
import {
  clearSessionCookie, exposeSession, recordFailure, refuseIfLockedOut, writeSessionCookie, type AuthGuard, type Sessions,
} from '../auth.ts';
import { waitText } from '../auth-throttle.ts';
import { formBody } from '../routes/params.ts';
import { page } from './render.ts';

/**
 * Login and logout of the dashboard (the guard itself is `dashboardAuth` in server/auth.ts). Failed
 * logins count against the client's address; a locked-out address gets 429 until its lockout ends.
 */
export function authPages(guard: AuthGuard): Hono {
  const app = new Hono();
  const sessions = guard.sessions;

  app.get('/ui/login', (c) => {
    if (sessions.dashboardOpen || c.get('user')) return c.redirect(safeNext(c.req.query('next')), 303);
    return loginPage(c, sessions, { next: safeNext(c.req.query('next')) });
  });

  app.post('/ui/login', async (c) => {
    const form = await formBody(c);
    const user = typeof form.user === 'string' ? form.user : '';
    const password = typeof form.password === 'string' ? form.password : '';
    const next = safeNext(typeof form.next === 'string' ? form.next : undefined);
    const { address, lockedMs } = refuseIfLockedOut(guard, c);
    if (lockedMs > 0) {
      c.status(429);
      return loginPage(c, sessions, { next, loginUser: user, error: `Too many failed logins from your address: try again in ${waitText(lockedMs)}.` });
    }
    if (!sessions.checkPassword(user, password)) {
      recordFailure(guard, address, 'login');
      c.status(401);
      const error = sessions.loginConfigured ? 'Wrong user or password.' : 'No dashboard login is configured.';
      return loginPage(c, sessions, { next, loginUser: user, error });
    }
    // A new session on login: the anonymous one's nonce (and CSRF token) is not carried over.
    const old = c.get('session');
    if (old) await sessions.revoke(old);
    const { session, cookie } = await sessions.logIn(user);
    writeSessionCookie(c, cookie);
    exposeSession(c, sessions, session);
    if (c.req.header('HX-Request') === 'true') {
      c.header('HX-Redirect', next);
      return c.body(null, 204);
    }
    return c.redirect(next, 303);
  });

  app.post('/ui/logout', async (c) => {
    const session = c.get('session');
    if (session) await sessions.revoke(session);
    clearSessionCookie(c);
    return c.redirect('/ui/login', 303);
  });
  return app;
}

function loginPage(c: Context, sessions: Sessions, context: { next: string; loginUser?: string; error?: string }) {
  return page(c, 'pages/login.njk', { ...context, loginConfigured: sessions.loginConfigured }, 'fragments/login-form.njk');
}

/** Only a dashboard path: never another host (`//evil`, `/\evil`) after login. */
function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/ui') || next.startsWith('//') || next.includes('\\')) return '/ui/flows';
  return next;
}
