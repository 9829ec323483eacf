import type { Db } from '../db/index.ts';
import type { Engine } from '../engine/index.ts';
import type { FlowStore, SyncConfig, Syncer } from '../sync/index.ts';
import type { AdminCredentials } from './auth.ts';
import type { HostPolicy } from './host-guard.ts';

/** What the HTTP layer needs; built once by `baton server` (and by tests). */
export interface ServerDeps {
  db: Db;
  engine: Engine;
  flows: FlowStore;
  syncer: Syncer;
  sync: Pick<SyncConfig, 'url' | 'flowsPath' | 'filesPath' | 'webhookSecret' | 'allowUnsignedWebhooks'>;
  branch: string;
  /** Display URL of the repository (credentials stripped). */
  repository: string;
  apiToken?: string;
  /** The dashboard login; without it the dashboard is open on loopback and closed elsewhere. */
  admin?: AdminCredentials;
  /** Signs session cookies; a random per-process key when absent (sessions end at restart). */
  sessionSecret?: string;
  /** True when the server listens on loopback only (default true, as in `app.request()` tests). */
  loopback?: boolean;
  /** The Host names and write origins allowed (default: the loopback names on loopback, else any). */
  hosts?: HostPolicy;
  /** Reverse proxies whose X-Forwarded-For names the client (BATON_TRUSTED_PROXIES); none by default. */
  trustedProxies?: readonly string[];
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: unknown) => void;
}
