import type { Context, MiddlewareHandler } from 'hono';
import { HttpError } from './errors.ts';

/** Names a browser can only use for a page that really is on this machine: always allowed. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'] as const;
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Their own credential (a signature, a flow's webhook key) authorises them, never a cookie: callable from anywhere. */
const OPEN_WRITE_PREFIXES = ['/hooks/git', '/api/v1/executions/webhook/'];
const MAX_ECHO = 100;

/** The `Host` names Baton answers to, and the origins (besides its own) that may send it writes. */
export interface HostPolicy {
  /** Host names (lower case, IPv6 without brackets), or 'any'. */
  hosts: ReadonlySet<string> | 'any';
  /** Origins (`https://baton.example`) allowed in `Origin`/`Referer` besides the request's own host. */
  origins: ReadonlySet<string>;
  /** How to widen the list, for the refusal message. */
  hint: string;
}

/** A BATON_ALLOWED_HOSTS or BATON_PUBLIC_URL that cannot be read. */
export class HostConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HostConfigError';
  }
}

/**
 * The host policy of a server listening on `host`:
 * - BATON_ALLOWED_HOSTS (comma-separated names, `*` for any) when set, plus the loopback names;
 * - else, listening on loopback (the mode without credentials): the loopback names, BATON_HOST and the
 *   host of BATON_PUBLIC_URL. A page on another name resolving to 127.0.0.1 (DNS rebinding) is refused;
 * - else (another address, so credentials are required): any Host, unless BATON_PUBLIC_URL names one.
 * Writes carrying an `Origin` (or `Referer`) must come from the request's own host or BATON_PUBLIC_URL.
 */
export function hostPolicyFromEnv(env: Record<string, string | undefined>, listen: { host: string; loopback: boolean }): HostPolicy {
  const publicUrl = env.BATON_PUBLIC_URL?.trim() || undefined;
  let publicHost: string | undefined;
  const origins = new Set<string>();
  if (publicUrl) {
    let url: URL;
    try {
      url = new URL(publicUrl);
    } catch (err) {
      throw new HostConfigError(`BATON_PUBLIC_URL must be an http(s) URL such as https://baton.example.com, got '${publicUrl}'`, { cause: err });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HostConfigError(`BATON_PUBLIC_URL must be an http(s) URL, got '${publicUrl}'`);
    publicHost = hostName(url.host);
    origins.add(url.origin);
  }
  const hint = 'set BATON_ALLOWED_HOSTS (comma-separated host names) or BATON_PUBLIC_URL to allow it';
  const listed = env.BATON_ALLOWED_HOSTS?.trim();
  if (listed) {
    const names = listed.split(',').map((name) => name.trim()).filter(Boolean);
    if (names.includes('*')) return { hosts: 'any', origins, hint };
    for (const name of names) {
      if (/[\s/@?#]/.test(name)) throw new HostConfigError(`BATON_ALLOWED_HOSTS holds host names (no scheme or path), got '${name}'`);
    }
    return { hosts: new Set([...LOOPBACK_HOSTS, ...names.map(hostName), ...(publicHost ? [publicHost] : [])]), origins, hint };
  }
  if (!listen.loopback && !publicHost) return { hosts: 'any', origins, hint };
  const hosts = new Set<string>(LOOPBACK_HOSTS);
  if (!WILDCARD_ADDRESSES.has(listen.host)) hosts.add(hostName(listen.host));
  if (publicHost) hosts.add(publicHost);
  return { hosts, origins, hint };
}

/** The policy when none is configured (tests, `createApp` callers): loopback names on loopback, else any. */
export function defaultHostPolicy(loopback: boolean): HostPolicy {
  return { hosts: loopback ? new Set(LOOPBACK_HOSTS) : 'any', origins: new Set(), hint: 'set BATON_ALLOWED_HOSTS to allow it' };
}

/**
 * Refuses a request whose `Host` is not allowed (421 Misdirected Request) and a write whose `Origin`
 * (or, without one, `Referer`) is another site (403). `/healthz` answers any Host: probes use the
 * pod's IP, and it tells nothing.
 */
export function hostGuard(policy: HostPolicy): MiddlewareHandler {
  return async function hostGuard(c, next) {
    const path = c.req.path;
    const host = requestHost(c);
    if (path !== '/healthz' && !hostAllowed(policy, host)) {
      throw new HttpError(421, `this server does not answer to the host '${clip(host)}' (a page on another name may be rebinding it to this address): ${policy.hint}`);
    }
    if (!SAFE_METHODS.has(c.req.method) && !OPEN_WRITE_PREFIXES.some((prefix) => path.startsWith(prefix))) {
      const origin = c.req.header('origin');
      const referer = origin === undefined ? c.req.header('referer') : undefined;
      const claimed = origin ?? referer;
      if (claimed !== undefined && !originAllowed(policy, claimed, host)) {
        throw new HttpError(403, `cross-origin ${c.req.method} refused: ${origin !== undefined ? 'Origin' : 'Referer'} '${clip(claimed)}' is not this server (set BATON_PUBLIC_URL if Baton is reached through another address)`);
      }
    }
    return next();
  };
}

/** The `Host` the client asked for (the URL's host under `app.request()`, which sends none). */
function requestHost(c: Context): string {
  return (c.req.header('host') ?? new URL(c.req.url).host).toLowerCase();
}

function hostAllowed(policy: HostPolicy, host: string): boolean {
  if (policy.hosts === 'any') return true;
  return policy.hosts.has(hostName(host));
}

/** The origin is this very host (any scheme: a TLS proxy may sit in front), or a configured origin. */
function originAllowed(policy: HostPolicy, claimed: string, host: string): boolean {
  let url: URL;
  try {
    url = new URL(claimed);
  } catch {
    // `Origin: null` (a sandboxed frame, a file://) and garbage are no origin of ours.
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  // A client may spell the default port out in Host; URL drops it from the origin.
  const withPort = `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  return url.host === host || withPort === host || policy.origins.has(url.origin);
}

/** The name of `host[:port]`, lower case, IPv6 without brackets. */
function hostName(host: string): string {
  const value = host.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(1, end);
  }
  // A bare IPv6 address (BATON_HOST=::1) has several colons; host:port has one.
  const colon = value.indexOf(':');
  return colon !== -1 && colon === value.lastIndexOf(':') ? value.slice(0, colon) : value;
}

function clip(text: string): string {
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
}
