/**
 * A TCP proxy to the test PostgreSQL that, once armed, resets the next connection as it sends its first
 * query: what a PostgreSQL restart does to a client connecting at that moment.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TEST_POSTGRES_URL } from './databases.ts';

/** Listens on 127.0.0.1 (a free port) and forwards to the test PostgreSQL. */
export async function startResettingProxy(): Promise<{ server: Server; port: number; arm(): void; resets(): number }> {
  const target = new URL(TEST_POSTGRES_URL);
  let armed = false;
  let resets = 0;
  const server = createServer((client: Socket) => {
    const upstream = createConnection(Number(target.port || 5432), target.hostname);
    let startupSeen = false;
    client.on('data', (chunk: Buffer) => {
      // The startup message has no type byte; after it, 'P' (Parse) or 'Q' (Query) starts a query.
      const startsQuery = startupSeen && (chunk[0] === 0x50 || chunk[0] === 0x51);
      startupSeen = true;
      if (armed && startsQuery) {
        armed = false;
        resets++;
        upstream.destroy();
        client.resetAndDestroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.writable && client.write(chunk));
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, arm: () => (armed = true), resets: () => resets };
}
