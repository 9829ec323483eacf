/**
 * Git-native sync: where pushes become revisions. Webhooks record sync requests; the syncer
 * fetches the configured branch, validates every flow and applies the commit in one transaction.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { limitsFromEnv, type Limits } from '../config/index.ts';
import type { Db } from '../db/index.ts';
import type { SyncConfig } from './config.ts';
import { GitSource } from './git/index.ts';
import { Syncer, type SyncLog } from './syncer.ts';

export { syncConfigFromEnv, SyncConfigError, type SyncConfig } from './config.ts';
export { Syncer, type SyncLog } from './syncer.ts';
export { syncOnce, ValidationCache, type SyncOutcome, type SyncResult } from './pipeline.ts';
export { FlowStore, FlowNotFoundError, NamespacePathError, normalizeNamespacePath, type StoredFlow, type FlowRevision, type CommitInfo } from './flow-store.ts';
export { loadSyncStatus, loadSyncHistory, type SyncStatus, type SyncHistoryEntry } from './status.ts';
export type { SyncChanges, SyncProblem } from './apply.ts';
export { handlePushWebhook, MAX_WEBHOOK_BODY_BYTES, type RecordOutcome, type SyncRequestRecord, type WebhookAnswer } from './webhooks/index.ts';
export { GitSource, stripCredentials, GitSyncError, type SkippedTreeEntry } from './git/index.ts';

/**
 * A syncer for `config`. Without BATON_GIT_URL the repository Baton runs in is synced, on its
 * checked-out branch unless BATON_GIT_BRANCH says otherwise.
 */
export async function createSyncer(options: {
  db: Db;
  config: SyncConfig;
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  log?: SyncLog;
  /** Flow size limits applied to every flow synced (default: BATON_LIMIT_* of `env`, else the safe defaults). */
  limits?: Limits;
}): Promise<Syncer> {
  const env = options.env ?? process.env;
  let branch = options.config.branch;
  if (!env.BATON_GIT_URL && !env.BATON_GIT_BRANCH) {
    branch = (await git.currentBranch({ fs, dir: options.config.url }).catch(() => undefined)) ?? branch;
  }
  const source = new GitSource({
    url: options.config.url,
    branch,
    cacheDir: join(options.dataDir, 'git'),
    auth: options.config.auth,
  });
  const limits = options.limits ?? limitsFromEnv(env);
  return new Syncer({ db: options.db, source, config: options.config, branch, log: options.log, limits });
}
