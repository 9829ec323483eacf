import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { openDatabase, type Database } from '../db/index.ts';
import { createEngine, Scheduler } from '../engine/index.ts';
import { createSyncer, FlowStore, syncConfigFromEnv, type SyncOutcome } from '../sync/index.ts';
import { createApp } from './app.ts';
import type { AdminCredentials } from './auth.ts';

export interface RunningServer {
  url: string;
  /** The outcome of the sync run at start. */
  initialSync: SyncOutcome;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Thrown when the configuration would expose an unauthenticated server. */
export class UnsafeListenError extends Error {
  constructor(host: string) {
    super(
      `refusing to listen on ${host} without credentials: set BATON_ADMIN_USER and BATON_ADMIN_PASSWORD (dashboard) ` +
        'and/or BATON_API_TOKEN (API), or listen on 127.0.0.1',
    );
    this.name = 'UnsafeListenError';
  }
}

/** A credential half-configured (a user without a password, or the reverse). */
export class CredentialsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsConfigError';
  }
}

/** What the listen rule decided: the credentials to use and what to say at start. */
export interface ListenPlan {
  host: string;
  loopback: boolean;
  apiToken?: string;
  admin?: AdminCredentials;
  sessionSecret?: string;
  warnings: string[];
}

/**
 * The listen rule: without any credential (admin user/password or API token) Baton listens on
 * loopback only and says so; any other address needs at least one. Throws UnsafeListenError.
 */
export function planListen(env: NodeJS.ProcessEnv): ListenPlan {
  const host = env.BATON_HOST || '127.0.0.1';
  const loopback = LOOPBACK.has(host);
  const apiToken = env.BATON_API_TOKEN || undefined;
  const user = env.BATON_ADMIN_USER || undefined;
  const password = env.BATON_ADMIN_PASSWORD || undefined;
  if (Boolean(user) !== Boolean(password)) {
    throw new CredentialsConfigError('set both BATON_ADMIN_USER and BATON_ADMIN_PASSWORD, or neither');
  }
  const admin = user && password ? { user, password } : undefined;
  if (!loopback && !apiToken && !admin) throw new UnsafeListenError(host);
  const warnings: string[] = [];
  if (!apiToken && !admin) {
    warnings.push('no credentials (BATON_ADMIN_USER/BATON_ADMIN_PASSWORD, BATON_API_TOKEN): the API and the dashboard are open, so Baton listens on loopback only');
  } else if (!admin) {
    warnings.push(loopback
      ? 'no BATON_ADMIN_USER/BATON_ADMIN_PASSWORD: the dashboard is open (loopback only)'
      : `no BATON_ADMIN_USER/BATON_ADMIN_PASSWORD: the dashboard is closed on ${host}`);
  }
  const sessionSecret = env.BATON_SESSION_SECRET || undefined;
  if (admin && !sessionSecret) warnings.push('no BATON_SESSION_SECRET: dashboard sessions end when the server restarts');
  return { host, loopback, apiToken, admin, sessionSecret, warnings };
}

/**
 * `baton server`: opens the database (PGlite under BATON_DATA_DIR, or DATABASE_URL), syncs the
 * flows from Git once, then serves the API and the push hook on PORT (default 8080).
 */
export async function startServer(options: {
  env?: NodeJS.ProcessEnv;
  dataDir: string;
  port?: number;
  quiet?: boolean;
} ): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const logger = pino({ level: options.quiet ? 'warn' : env.BATON_LOG_LEVEL || 'info', base: undefined });
  const plan = planListen(env);
  const { host } = plan;
  for (const warning of plan.warnings) logger.warn(warning);

  const config = syncConfigFromEnv(env);
  let database: Database | undefined;
  try {
    database = await openDatabase({ url: env.DATABASE_URL || undefined, dataDir: options.dataDir });
    const db = database.db;
    const flows = new FlowStore(db);
    const engine = createEngine({
      db, listen: database.listen, dataDir: options.dataDir, flows: flows.flowSource(), namespaceFiles: flows.namespaceFiles(), env,
    });
    const log = (level: 'info' | 'warn' | 'error', message: string, data?: unknown) => logger[level](data ?? {}, message);
    const syncer = await createSyncer({ db, config, dataDir: options.dataDir, env, log });
    if (!config.webhookSecret) logger.warn('no BATON_GIT_WEBHOOK_SECRET: push webhooks are accepted unsigned');
    const initialSync = await syncer.start();
    const app = createApp({
      db,
      engine,
      flows,
      syncer,
      sync: config,
      branch: syncer.branch,
      repository: syncer.repository,
      apiToken: plan.apiToken,
      admin: plan.admin,
      sessionSecret: plan.sessionSecret,
      loopback: plan.loopback,
      log,
    });
    const port = options.port ?? Number(env.PORT || 8080);
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s));
    });
    const address = server.address() as AddressInfo;
    const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    logger.info({ url, repository: syncer.repository, branch: syncer.branch }, 'baton server listening');
    // After the first sync, so the schedules it sees are the current ones. BATON_SCHEDULER=off leaves
    // scheduling to other processes on the same PostgreSQL database.
    const scheduler = env.BATON_SCHEDULER === 'off'
      ? undefined
      : new Scheduler({ database, engine, flows: { latestRevisions: () => flows.latestRevisions(), ...flows.flowSource() }, log });
    scheduler?.start();
    if (!scheduler) logger.info('BATON_SCHEDULER=off: schedules are not evaluated by this process');
    const db0 = database;
    return {
      url,
      initialSync,
      async close() {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await scheduler?.stop();
        await syncer.stop();
        await engine.idle();
        await db0.close();
      },
    };
  } catch (err) {
    await database?.close();
    throw err;
  }
}
