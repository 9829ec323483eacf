import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { limitsFromEnv } from '../config/index.ts';
import { openDatabase, type Database } from '../db/index.ts';
import { createEngine, FlowTriggerDispatcher, newWorkerId, prepareTaskIsolation, Scheduler, Worker, type Engine } from '../engine/index.ts';
import { createSyncer, FlowStore, syncConfigFromEnv, type SyncOutcome } from '../sync/index.ts';
import { createApp } from './app.ts';
import type { AdminCredentials } from './auth.ts';
import { trustedProxiesFromEnv } from './client-address.ts';
import { hostPolicyFromEnv, type HostPolicy } from './host-guard.ts';

export interface RunningServer {
  /** The HTTP address (empty for the scheduler and worker roles, which serve no HTTP). */
  url: string;
  role: Role;
  /** The outcome of the sync run at start (server and standalone roles). */
  initialSync?: SyncOutcome;
  /** The worker of this process (standalone and worker roles). */
  worker?: Worker;
  engine: Engine;
  /**
   * Stops the process's parts. A worker stops claiming, lets running executions end within
   * `graceMs` (BATON_SHUTDOWN_GRACE_SECONDS, default 30 s) and hands the rest back to other workers.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * What a process does. `server`: API, dashboard, flow webhooks, Git sync; executions go to workers.
 * `scheduler`: Schedule triggers and backfills. `worker`: runs executions (and the Flow triggers of
 * those that end). `standalone`: all three in one process, on PGlite or PostgreSQL.
 */
export const ROLES = ['standalone', 'server', 'scheduler', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** A role that shares its database with other processes was given the embedded, single-process one. */
export class RoleDatabaseError extends Error {
  constructor(role: Role) {
    super(
      `baton ${role} needs PostgreSQL (DATABASE_URL=postgres://…): the embedded database (PGlite) belongs to one process; ` +
        'run `baton standalone` for a single process on PGlite',
    );
    this.name = 'RoleDatabaseError';
  }
}

const DEFAULT_WORKER_THREADS = 8;

type Stop = (graceMs: number) => Promise<unknown>;

function workerThreads(env: NodeJS.ProcessEnv): number {
  const raw = env.BATON_WORKER_THREADS;
  if (raw === undefined || raw === '') return DEFAULT_WORKER_THREADS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`BATON_WORKER_THREADS must be an integer from 1 to 1024, got '${raw}'`);
  return n;
}

function secondsSetting(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number of seconds, got '${raw}'`);
  return n * 1000;
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

/** BATON_GIT_WEBHOOK_UNSIGNED=allow on a server others can reach. */
export class UnsignedWebhooksError extends Error {
  constructor(host: string) {
    super(
      `refusing BATON_GIT_WEBHOOK_UNSIGNED=allow on ${host}: anyone who reaches it could trigger syncs; ` +
        'set BATON_GIT_WEBHOOK_SECRET (and the same secret on the Git host), or listen on 127.0.0.1',
    );
    this.name = 'UnsignedWebhooksError';
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
  /** The Host names and write origins the server answers (BATON_ALLOWED_HOSTS, BATON_PUBLIC_URL). */
  hosts: HostPolicy;
  /** BATON_TRUSTED_PROXIES: only their X-Forwarded-For names a client. */
  trustedProxies: string[];
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
  // Off loopback, credentials stand between a rebinding page and the API, so any Host is answered
  // unless BATON_ALLOWED_HOSTS or BATON_PUBLIC_URL says otherwise (see hostPolicyFromEnv).
  const hosts = hostPolicyFromEnv(env, { host, loopback });
  return { host, loopback, apiToken, admin, sessionSecret, hosts, trustedProxies: trustedProxiesFromEnv(env), warnings };
}

/**
 * Starts one Baton process in `role` (default standalone): opens the database (PGlite under
 * BATON_DATA_DIR, or DATABASE_URL), then the parts of the role. Executions are always stored before
 * they are answered or run, so any process may crash without losing one.
 */
export async function startServer(options: {
  env?: NodeJS.ProcessEnv;
  dataDir: string;
  port?: number;
  quiet?: boolean;
  role?: Role;
}): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const role = options.role ?? 'standalone';
  const logger = pino({ level: options.quiet ? 'warn' : env.BATON_LOG_LEVEL || 'info', base: { role } });
  const serves = role === 'standalone' || role === 'server';
  const schedules = (role === 'standalone' && env.BATON_SCHEDULER !== 'off') || role === 'scheduler';
  const runs = role === 'standalone' || role === 'worker';
  const plan = serves ? planListen(env) : undefined;
  for (const warning of plan?.warnings ?? []) logger.warn(warning);
  const threads = workerThreads(env);
  const leaseMs = secondsSetting(env, 'BATON_LEASE_SECONDS');
  const graceDefault = secondsSetting(env, 'BATON_SHUTDOWN_GRACE_SECONDS') ?? 30_000;
  // A bad BATON_LIMIT_* stops the start, naming the variable.
  const limits = limitsFromEnv(env);
  // Who Process tasks run as (engine/runners/task-user.ts): an unusable BATON_TASK_USER stops the start,
  // isolation off is said; with isolation on, the data directory becomes Baton's alone (0700).
  if (runs) for (const warning of (await prepareTaskIsolation({ env, dataDir: options.dataDir })).warnings) logger.warn(warning);

  let database: Database | undefined;
  const stops: Stop[] = [];
  try {
    database = await openDatabase({ url: env.DATABASE_URL || undefined, dataDir: options.dataDir });
    if (database.driver === 'pglite' && role !== 'standalone') throw new RoleDatabaseError(role);
    const db = database.db;
    const flows = new FlowStore(db);
    const liveFlows = { latestRevisions: () => flows.latestRevisions(), ...flows.flowSource() };
    const engine = createEngine({
      db,
      listen: database.listen,
      dataDir: options.dataDir,
      flows: flows.flowSource(),
      namespaceFiles: flows.namespaceFiles(),
      env,
      leaseMs,
      limits,
      role: runs ? { runsExecutions: true, leaseOwner: newWorkerId() } : { runsExecutions: false },
    });
    stops.push(() => engine.idle());
    // Log lines the database refused (then stored escaped) or could not store at all, in Baton's own log.
    engine.resources.logs.onWriteFailure((error) => logger[error.lost ? 'error' : 'warn'](error.message));
    const log = (level: 'info' | 'warn' | 'error', message: string, data?: unknown) => logger[level](data ?? {}, message);

    let url = '';
    let initialSync: SyncOutcome | undefined;
    if (serves) {
      const config = syncConfigFromEnv(env);
      if (!config.webhookSecret && config.allowUnsignedWebhooks && !plan!.loopback) throw new UnsignedWebhooksError(plan!.host);
      const syncer = await createSyncer({ db, config, dataDir: options.dataDir, env, log, limits });
      if (!config.webhookSecret) {
        logger.warn(config.allowUnsignedWebhooks
          ? 'no BATON_GIT_WEBHOOK_SECRET and BATON_GIT_WEBHOOK_UNSIGNED=allow: push webhooks are accepted unsigned (loopback only)'
          : 'no BATON_GIT_WEBHOOK_SECRET: push webhooks are refused (401) until it is set; changes arrive by the poll (BATON_SYNC_POLL_SECONDS) or "Sync now"');
      }
      stops.unshift(() => syncer.stop());
      const app = createApp({
        db,
        engine,
        flows,
        syncer,
        sync: config,
        branch: syncer.branch,
        repository: syncer.repository,
        apiToken: plan!.apiToken,
        admin: plan!.admin,
        sessionSecret: plan!.sessionSecret,
        loopback: plan!.loopback,
        hosts: plan!.hosts,
        trustedProxies: plan!.trustedProxies,
        log,
      });
      const port = options.port ?? Number(env.PORT || 8080);
      const server = await new Promise<ServerType>((resolve) => {
        const s = serve({ fetch: app.fetch, port, hostname: plan!.host }, () => resolve(s));
      });
      // Closed first: no new work is accepted while the rest stops.
      stops.unshift(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const address = server.address() as AddressInfo;
      url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      logger.info({ url, repository: syncer.repository, branch: syncer.branch }, `baton ${role} listening`);
      // Listening before the first sync: /healthz answers (probes, `npm start`) and the API serves the
      // flows already stored while the repository is fetched. A sync that throws still stops the process.
      initialSync = await syncer.start();
      logger.info({ result: initialSync.result }, 'initial sync done');
    }

    let worker: Worker | undefined;
    let stopWorker: Stop | undefined;
    let stopScheduler: Stop | undefined;
    if (runs) {
      // Flow triggers react to executions ending, which happens where they run.
      const flowTriggers = new FlowTriggerDispatcher({ db, engine, flows: liveFlows, log });
      flowTriggers.start();
      worker = new Worker({ engine, threads, log });
      await worker.start();
      const started = worker;
      // The embedded database has no other process: leases left by a crash of this one end now, and the
      // worker resumes those executions in the background. Nothing of the start waits for them (a start
      // must answer even when one of them is what crashed the last run: its claims count that, and past
      // BATON_LIMIT_EXECUTION_CRASHES it is failed instead of resumed, see Engine.runClaimed).
      const resuming = database.driver === 'pglite'
        ? engine.resources.queue.expireAll().then(
          (expired) => {
            if (expired === 0) return;
            logger.info(`resuming ${expired} execution(s) left unfinished by the last run`);
            started.wake();
          },
          (error: unknown) => logger.warn(`executions left unfinished by the last run are not resumed yet: ${(error as Error).message}`),
        )
        : Promise.resolve();
      stopWorker = async (graceMs) => {
        await resuming;
        const { finished, handedBack } = await started.stop(graceMs);
        if (handedBack) logger.warn(`worker stopped: ${finished} execution(s) finished, ${handedBack} handed back to other workers`);
        await flowTriggers.stop();
      };
      logger.info({ owner: worker.owner, threads }, 'worker claiming executions');
    }

    if (schedules) {
      // After the first sync, so the schedules it sees are the current ones.
      const scheduler = new Scheduler({ database, engine, flows: liveFlows, log });
      scheduler.start();
      stopScheduler = () => scheduler.stop();
      logger.info('scheduler evaluating triggers');
    } else if (role === 'standalone') {
      logger.info('BATON_SCHEDULER=off: schedules are not evaluated by this process');
    }

    // HTTP and sync first (no new work comes in), then the scheduler (none is created), then the worker
    // (running executions end or are handed back), then whatever still runs here.
    stops.splice(stops.length - 1, 0, ...[stopScheduler, stopWorker].filter((s): s is Stop => s !== undefined));
    const db0 = database;
    let closing: Promise<void> | undefined;
    return {
      url,
      role,
      initialSync,
      worker,
      engine,
      close(closeOptions = {}) {
        closing ??= (async () => {
          for (const stop of stops) await stop(closeOptions.graceMs ?? graceDefault);
          await db0.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    for (const stop of stops) await Promise.resolve(stop(0)).catch(() => undefined);
    await database?.close();
    throw err;
  }
}
