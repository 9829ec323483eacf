import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/** What a request has when no socket is behind it (`app.request()` in tests). */
export const UNKNOWN_ADDRESS = 'unknown';

/** A BATON_TRUSTED_PROXIES entry that is not an IP address. */
export class TrustedProxiesConfigError extends Error {
  constructor(entry: string) {
    super(`BATON_TRUSTED_PROXIES holds the IP addresses of reverse proxies whose X-Forwarded-For is trusted, got '${entry}'`);
    this.name = 'TrustedProxiesConfigError';
  }
}

/** Reads BATON_TRUSTED_PROXIES (comma-separated IP addresses); empty when unset. */
export function trustedProxiesFromEnv(env: Record<string, string | undefined>): string[] {
  const entries = (env.BATON_TRUSTED_PROXIES ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of entries) if (isIP(entry) === 0) throw new TrustedProxiesConfigError(entry);
  return entries.map(normalizeAddress);
}

/**
 * The address of the client: the socket's peer, or — only when that peer is a trusted reverse proxy
 * — the nearest address in X-Forwarded-For that is not one of the trusted proxies. A forged header
 * from anyone else is ignored, so no one can pass for another address (or lock another out).
 */
export function clientAddress(c: Context, trustedProxies: ReadonlySet<string>): string {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    peer = undefined;
  }
  if (!peer) return UNKNOWN_ADDRESS;
  let address = normalizeAddress(peer);
  if (!trustedProxies.has(address)) return address;
  const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map((hop) => hop.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (isIP(hops[i]) === 0) break;
    address = normalizeAddress(hops[i]);
    if (!trustedProxies.has(address)) break;
  }
  return address;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`, lower case, no zone index. */
export function normalizeAddress(address: string): string {
  const plain = address.toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(plain);
  return mapped ? mapped[1] : plain;
}

/**
 * The key failed attempts are counted under: the address, or for IPv6 its /64 network — one host
 * usually holds a whole /64, and would otherwise get a fresh counter with every address it takes.
 */
export function throttleKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
