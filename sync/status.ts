import { desc, eq } from 'drizzle-orm';
import type { Db } from '../db/index.ts';
import { syncHistory, syncState, toIsoTimestamp } from '../db/index.ts';
import { SYNC_STATE_ID, type SyncChanges, type SyncProblem } from './apply.ts';
import type { CommitInfo } from './flow-store.ts';

export interface SyncStatus {
  repository: string;
  branch: string;
  /** The commit whose flows are live. */
  appliedCommit: CommitInfo | null;
  /** SYNCED, REFUSED (last commit had invalid flows; the applied one stays live), ERROR (fetch failed). */
  state: string;
  lastAttempt: { at: string | null; sha: string | null };
  lastSuccessAt: string | null;
  errors: SyncProblem[];
  /** What the last commit read holds that is not synced (symbolic links, submodules), by path. */
  warnings: SyncProblem[];
}

export interface SyncHistoryEntry {
  startedAt: string;
  finishedAt: string;
  reason: string;
  commitSha: string | null;
  result: string;
  changes: SyncChanges;
  errors: SyncProblem[];
  durationMs: number;
}

export async function loadSyncStatus(db: Db): Promise<SyncStatus | undefined> {
  const [row] = await db.select().from(syncState).where(eq(syncState.id, SYNC_STATE_ID));
  if (!row) return undefined;
  return {
    repository: row.repository,
    branch: row.branch,
    appliedCommit: (row.appliedCommit ?? null) as CommitInfo | null,
    state: row.state,
    lastAttempt: { at: row.lastAttemptAt ? toIsoTimestamp(row.lastAttemptAt) : null, sha: row.lastAttemptSha },
    lastSuccessAt: row.lastSuccessAt ? toIsoTimestamp(row.lastSuccessAt) : null,
    errors: (row.errors ?? []) as SyncProblem[],
    warnings: (row.warnings ?? []) as SyncProblem[],
  };
}

/** The newest sync attempts, newest first. */
export async function loadSyncHistory(db: Db, limit = 20): Promise<SyncHistoryEntry[]> {
  const rows = await db.select().from(syncHistory).orderBy(desc(syncHistory.id)).limit(limit);
  return rows.map((r) => ({
    startedAt: toIsoTimestamp(r.startedAt),
    finishedAt: toIsoTimestamp(r.finishedAt),
    reason: r.reason,
    commitSha: r.commitSha,
    result: r.result,
    changes: r.changes as SyncChanges,
    errors: r.errors as SyncProblem[],
    durationMs: r.durationMs,
  }));
}
