import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { DashboardSessionRows, type Db } from '../db/index.ts';
import { waitText, type AuthKind, type AuthThrottle } from './auth-throttle.ts';
import { HttpError } from './errors.ts';

/** The dashboard's one account (`BATON_ADMIN_USER` / `BATON_ADMIN_PASSWORD`). */
export interface AdminCredentials {
  user: string;
  password: string;
}

/** A dashboard session: anonymous (`user: null`) until login; its nonce keys the CSRF token. */
export interface Session {
  user: string | null;
  nonce: string;
  expires: number;
}

declare module 'hono' {
  interface ContextVariableMap {
    session: Session | undefined;
    /** The logged-in admin, or undefined (anonymous or open dashboard). */
    user: string | undefined;
    csrfToken: string | undefined;
    /** No admin credentials and loopback only: the dashboard needs no login (the layout says so). */
    dashboardOpen: boolean;
  }
}

export const SESSION_COOKIE = 'baton_session';
/** Form field carrying the CSRF token; htmx sends it as the `X-CSRF-Token` header instead. */
export const CSRF_FIELD = 'csrf';
export const CSRF_HEADER = 'X-CSRF-Token';
const SESSION_SECONDS = 12 * 3600;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Flow webhooks carry their own key in the path (Kestra's `/api/v1/executions/webhook/{ns}/{id}/{key}`). */
const OPEN_API_PREFIX = '/api/v1/executions/webhook/';

/**
 * Who may use the API and the dashboard, and the signed session cookies of the dashboard.
 * A logged-in session is a signed cookie and a row in `dashboard_sessions`: logout deletes the row,
 * so the cookie stays dead across restarts. The cookie also carries a fingerprint of the admin
 * credentials it was issued for: a changed user or password ends every session. Anonymous sessions
 * (a CSRF token before login) are the cookie alone.
 */
export class Sessions {
  readonly dashboardOpen: boolean;
  /** Neither an API token nor admin credentials: the API is open (Baton then listens on loopback only). */
  readonly apiOpen: boolean;
  private readonly key: Buffer;
  private readonly apiTokenDigest: Buffer | undefined;
  private readonly admin: { user: Buffer; password: Buffer; name: string; fingerprint: string } | undefined;
  /** Anonymous sessions replaced by a login in this process (their CSRF token must not outlive them). */
  private readonly revoked = new Map<string, number>();
  private readonly rows: DashboardSessionRows;

  constructor(options: { db: Db; apiToken?: string; admin?: AdminCredentials; secret?: string; loopback?: boolean }) {
    // Without a configured secret, sessions last as long as the process.
    this.key = options.secret ? digest(`baton-session:${options.secret}`) : randomBytes(32);
    this.rows = new DashboardSessionRows(options.db);
    this.apiTokenDigest = options.apiToken ? digest(options.apiToken) : undefined;
    this.admin = options.admin
      ? {
          user: digest(options.admin.user),
          password: digest(options.admin.password),
          name: options.admin.user,
          // Keyed by the session key, so the cookie reveals nothing about the password.
          fingerprint: createHmac('sha256', this.key).update(`credentials:${options.admin.user}\0${options.admin.password}`).digest('base64url').slice(0, 22),
        }
      : undefined;
    this.dashboardOpen = !this.admin && (options.loopback ?? true);
    this.apiOpen = !this.admin && !this.apiTokenDigest;
  }

  /** True when the dashboard has an account to log in with. */
  get loginConfigured(): boolean {
    return this.admin !== undefined;
  }

  /** Constant time in the content of both values; user and password are always both compared. */
  checkPassword(user: string, password: string): boolean {
    if (!this.admin) return false;
    const userOk = timingSafeEqual(digest(user), this.admin.user);
    const passwordOk = timingSafeEqual(digest(password), this.admin.password);
    return userOk && passwordOk;
  }

  /** Constant time, like the password check. */
  checkApiToken(token: string): boolean {
    return this.apiTokenDigest !== undefined && timingSafeEqual(digest(token), this.apiTokenDigest);
  }

  /** A fresh anonymous session (new nonce, so a new CSRF token) and its cookie value. */
  issueAnonymous(): { session: Session; cookie: string } {
    const session: Session = { user: null, nonce: randomBytes(16).toString('base64url'), expires: Math.floor(Date.now() / 1000) + SESSION_SECONDS };
    return { session, cookie: this.cookieOf(session, undefined) };
  }

  /** A fresh session of the admin, stored (with expired ones swept), and its cookie value. */
  async logIn(user: string): Promise<{ session: Session; cookie: string }> {
    const session: Session = { user, nonce: randomBytes(16).toString('base64url'), expires: Math.floor(Date.now() / 1000) + SESSION_SECONDS };
    await this.rows.add(rowId(session.nonce), user, new Date(session.expires * 1000).toISOString());
    return { session, cookie: this.cookieOf(session, this.admin?.fingerprint) };
  }

  /**
   * The session a cookie carries, or undefined when forged, expired, logged out, or issued for other
   * admin credentials (another user, or the same user before a password change).
   */
  async read(cookie: string | undefined): Promise<Session | undefined> {
    if (!cookie) return undefined;
    const dot = cookie.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = cookie.slice(0, dot);
    if (!equalText(cookie.slice(dot + 1), this.sign(payload))) return undefined;
    let data: { u?: unknown; n?: unknown; e?: unknown; c?: unknown };
    try {
      data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof data.n !== 'string' || typeof data.e !== 'number' || (data.u !== null && typeof data.u !== 'string')) return undefined;
    if (data.e <= Date.now() / 1000 || this.revoked.has(data.n)) return undefined;
    const session: Session = { user: data.u, nonce: data.n, expires: data.e };
    if (data.u === null) return session;
    if (!this.admin || data.u !== this.admin.name || typeof data.c !== 'string' || !equalText(data.c, this.admin.fingerprint)) return undefined;
    return (await this.rows.alive(rowId(data.n))) ? session : undefined;
  }

  /** Ends a session before its expiry (logout, login): a logged-in one's row is deleted. */
  async revoke(session: Session): Promise<void> {
    if (session.user !== null) {
      await this.rows.remove(rowId(session.nonce));
      return;
    }
    const now = Date.now() / 1000;
    for (const [nonce, expires] of this.revoked) if (expires <= now) this.revoked.delete(nonce);
    this.revoked.set(session.nonce, session.expires);
  }

  /** The session's CSRF token: derived from its nonce, so nothing is stored. */
  csrfToken(session: Session): string {
    return createHmac('sha256', this.key).update(`csrf:${session.nonce}`).digest('base64url');
  }

  /** True when `token` is this session's CSRF token. */
  checkCsrf(session: Session | undefined, token: string | undefined): boolean {
    return session !== undefined && token !== undefined && equalText(token, this.csrfToken(session));
  }

  /** Logged in, or anonymous on an open dashboard. */
  authenticated(session: Session | undefined): boolean {
    return session !== undefined && (session.user !== null || this.dashboardOpen);
  }

  private cookieOf(session: Session, fingerprint: string | undefined): string {
    const payload = Buffer.from(JSON.stringify({ u: session.user, n: session.nonce, e: session.expires, ...(fingerprint ? { c: fingerprint } : {}) })).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/**
 * Everything that checks credentials: the sessions, the lockout of addresses that keep failing,
 * how a request's client address is found, and where failures are logged.
 */
export interface AuthGuard {
  sessions: Sessions;
  throttle: AuthThrottle;
  addressOf(c: Context): string;
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: unknown) => void;
}

/** 429 with Retry-After when the client's address is locked out; the address otherwise. */
export function refuseIfLockedOut(guard: AuthGuard, c: Context): { address: string; lockedMs: number } {
  const address = guard.addressOf(c);
  const { lockedMs, log } = guard.throttle.lockedFor(address);
  if (lockedMs > 0) {
    c.header('Retry-After', String(Math.ceil(lockedMs / 1000)));
    // Once a minute per address: /metrics counts every one (baton_auth_locked_attempts_total).
    if (log) guard.log?.('warn', 'authentication attempts refused: address locked out', { address, retryAfterSeconds: Math.ceil(lockedMs / 1000) });
  }
  return { address, lockedMs };
}

/** Counts and logs a failed login or API token (never the secret that was tried). */
export function recordFailure(guard: AuthGuard, address: string, kind: AuthKind): void {
  const { failures, lockedMs } = guard.throttle.fail(address, kind);
  guard.log?.('warn', kind === 'login' ? 'dashboard login failed' : 'invalid API token', { address, failures });
  if (lockedMs > 0) guard.log?.('warn', `address locked out for ${waitText(lockedMs)} after ${failures} failed attempts`, { address, kind });
}

/** The message of a 429 for a locked-out address. */
export function lockedOutMessage(lockedMs: number): string {
  return `too many failed attempts from your address: try again in ${waitText(lockedMs)}`;
}

/** Sets the session cookie: HttpOnly, SameSite=Lax, Secure when the request came over https. */
export function writeSessionCookie(c: Context, cookie: string): void {
  setCookie(c, SESSION_COOKIE, cookie, { httpOnly: true, sameSite: 'Lax', secure: isHttps(c), path: '/', maxAge: SESSION_SECONDS });
}

/** Removes the session cookie (logout). */
export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c) });
}

/** Reads the session cookie on every request and exposes `session`, `user`, `csrfToken`, `dashboardOpen`. */
export function sessionCookie(sessions: Sessions): MiddlewareHandler {
  return async function sessionCookie(c, next) {
    const session = await sessions.read(getCookie(c, SESSION_COOKIE));
    exposeSession(c, sessions, session);
    return next();
  };
}

/** Makes `session` the request's session (after login, or a new anonymous one). */
export function exposeSession(c: Context, sessions: Sessions, session: Session | undefined): void {
  c.set('session', session);
  c.set('user', session?.user ?? undefined);
  c.set('csrfToken', session ? sessions.csrfToken(session) : undefined);
  c.set('dashboardOpen', sessions.dashboardOpen);
}

/**
 * `/api/*`: `Authorization: Bearer <BATON_API_TOKEN>`, or a dashboard session (with the `X-CSRF-Token`
 * header for unsafe methods). Open when no credentials are configured at all, except to cross-site
 * browser requests that would change something.
 */
export function apiAuth(guard: AuthGuard): MiddlewareHandler {
  const sessions = guard.sessions;
  return async function apiAuth(c, next) {
    if (c.req.path.startsWith(OPEN_API_PREFIX)) return next();
    const unsafe = !SAFE_METHODS.has(c.req.method);
    const header = c.req.header('authorization');
    if (header !== undefined && !sessions.apiOpen) {
      const { address, lockedMs } = refuseIfLockedOut(guard, c);
      if (lockedMs > 0) throw new HttpError(429, lockedOutMessage(lockedMs));
      const match = /^Bearer\s+(.+)$/i.exec(header);
      if (match && sessions.checkApiToken(match[1].trim())) return next();
      recordFailure(guard, address, 'api-token');
      c.header('WWW-Authenticate', 'Bearer realm="baton"');
      throw new HttpError(401, match ? 'invalid API token' : 'the Authorization header must be Bearer <BATON_API_TOKEN>');
    }
    const session = c.get('session');
    if (sessions.authenticated(session) && !sessions.apiOpen) {
      if (unsafe && !sessions.checkCsrf(session, c.req.header(CSRF_HEADER))) {
        throw new HttpError(403, `missing or invalid ${CSRF_HEADER} header for a session-authenticated ${c.req.method}`);
      }
      return next();
    }
    if (sessions.apiOpen) {
      // Without credentials a page on another site could still make the browser POST here.
      if (unsafe && c.req.header('sec-fetch-site') === 'cross-site') throw new HttpError(403, 'cross-site request refused');
      return next();
    }
    c.header('WWW-Authenticate', 'Bearer realm="baton"');
    throw new HttpError(401, 'missing credentials: send Authorization: Bearer <BATON_API_TOKEN>, or log in to the dashboard');
  };
}

/**
 * `/ui/*`: gives every visitor a session (anonymous until login) so forms carry a CSRF token, refuses
 * unsafe methods without it (403), and sends visitors who are not logged in to `/ui/login`.
 */
export function dashboardAuth(sessions: Sessions): MiddlewareHandler {
  return async function dashboardAuth(c, next) {
    let session = c.get('session');
    if (!session) {
      const issued = sessions.issueAnonymous();
      session = issued.session;
      writeSessionCookie(c, issued.cookie);
      exposeSession(c, sessions, session);
    }
    if (!SAFE_METHODS.has(c.req.method)) {
      const token = c.req.header(CSRF_HEADER) ?? (await formField(c, CSRF_FIELD));
      if (!sessions.checkCsrf(session, token)) {
        return c.text('403 Forbidden: missing or invalid CSRF token (reload the page and try again)', 403);
      }
    }
    if (c.req.path === '/ui/login' || sessions.authenticated(session)) return next();
    const login = `/ui/login?next=${encodeURIComponent(c.req.path + new URL(c.req.url).search)}`;
    if (c.req.header('HX-Request') === 'true') {
      c.header('HX-Redirect', login);
      return c.body(null, 401);
    }
    return c.redirect(login, 303);
  };
}

/** A field of a urlencoded or multipart body (Hono caches the parsed body for the handler). */
async function formField(c: Context, name: string): Promise<string | undefined> {
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('multipart/form-data')) return undefined;
  const body = await c.req.parseBody({ all: true }).catch(() => ({}) as Record<string, unknown>);
  const value = body[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto')?.split(',')[0].trim() === 'https';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The row id of a session: its nonce hashed, so the table holds nothing a cookie could be made from. */
function rowId(nonce: string): string {
  return createHash('sha256').update(nonce).digest('hex');
}

/** Constant-time comparison of two strings of any length (through their digests). */
function equalText(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
