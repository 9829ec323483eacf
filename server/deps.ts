import type { Db } from '../db/index.ts';
import type { Engine } from '../engine/index.ts';
import type { FlowStore, SyncConfig, Syncer } from '../sync/index.ts';

/** What the HTTP layer needs; built once by `baton server` (and by tests). */
export interface ServerDeps {
  db: Db;
  engine: Engine;
  flows: FlowStore;
  syncer: Syncer;
  sync: Pick<SyncConfig, 'url' | 'flowsPath' | 'filesPath' | 'webhookSecret'>;
  branch: string;
  /** Display URL of the repository (credentials stripped). */
  repository: string;
  apiToken?: string;
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: unknown) => void;
}
