/**
 * A test guard for the Google Cloud fakes: every TCP connection this process opens while it is on is
 * recorded, and any to an address other than loopback is refused (its socket fails with an error
 * before a packet leaves). DNS lookups are recorded too: none of a googleapis.com name should happen.
 */
import dns from 'node:dns';
import net from 'node:net';

export interface LoopbackGuard {
  /** `host:port` of every connection attempt. */
  connections: string[];
  /** Attempts refused because their host was not loopback. */
  refused: string[];
  /** Host names looked up in DNS. */
  lookups: string[];
  restore(): void;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

export function guardLoopback(): LoopbackGuard {
  const guard: LoopbackGuard = { connections: [], refused: [], lookups: [], restore };
  const originalConnect = net.Socket.prototype.connect;
  const originalLookup = dns.lookup;

  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    const options = (Array.isArray(first) ? first[0] : first) as { host?: string; port?: number; path?: string } | number | string;
    let host: string | undefined;
    let port: unknown;
    if (typeof options === 'object' && options !== null) {
      if (options.path) return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
      host = options.host ?? 'localhost';
      port = options.port;
    } else if (typeof options === 'number' || /^\d+$/.test(String(options))) {
      port = options;
      host = typeof args[1] === 'string' ? (args[1] as string) : 'localhost';
    } else {
      // A string first argument is a unix socket path.
      return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
    }
    guard.connections.push(`${host}:${port}`);
    if (!LOOPBACK.has(host)) {
      guard.refused.push(`${host}:${port}`);
      process.nextTick(() => this.destroy(new Error(`loopback guard: refused a connection to ${host}:${port}`)));
      return this;
    }
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;

  (dns as { lookup: unknown }).lookup = function guardedLookup(hostname: string, ...rest: unknown[]) {
    guard.lookups.push(hostname);
    return (originalLookup as (...a: unknown[]) => unknown).call(dns, hostname, ...rest);
  };

  function restore(): void {
    net.Socket.prototype.connect = originalConnect;
    (dns as { lookup: unknown }).lookup = originalLookup;
  }
  return guard;
}
