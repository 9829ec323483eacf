import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/index.ts';
import { flowRevisions, flows, namespaceFiles, syncHistory, syncState } from '../db/index.ts';
import type { FlowDef } from '../engine/index.ts';
import type { CommitInfo } from './flow-store.ts';

/** A flow as read from one commit. */
export interface CommitFlow {
  path: string;
  source: string;
  definition: FlowDef;
}

/** A namespace file as read from one commit. */
export interface CommitFile {
  namespace: string;
  /** '/'-rooted path inside the namespace. */
  path: string;
  blobSha: string;
  /** Loaded only for files that changed. */
  content: () => Promise<Buffer>;
}

export interface SyncChanges {
  added: string[];
  updated: string[];
  deleted: string[];
  files: { added: string[]; updated: string[]; deleted: string[] };
}

export interface SyncProblem {
  path: string;
  line: number;
  column: number;
  message: string;
}

export const SYNC_STATE_ID = 'git';

/** Any lock key will do as long as every syncer uses the same one: one apply at a time, across processes. */
const APPLY_LOCK = 0x62_61_74_6f; // "bato"

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Upserts the one sync_state row. */
async function writeSyncState(tx: Tx, values: Omit<typeof syncState.$inferInsert, 'id' | 'updatedAt'>): Promise<void> {
  await tx
    .insert(syncState)
    .values({ id: SYNC_STATE_ID, ...values })
    .onConflictDoUpdate({ target: syncState.id, set: { ...values, updatedAt: sql`now()` } });
}

export function emptyChanges(): SyncChanges {
  return { added: [], updated: [], deleted: [], files: { added: [], updated: [], deleted: [] } };
}

export function hasChanges(c: SyncChanges): boolean {
  return c.added.length + c.updated.length + c.deleted.length + c.files.added.length + c.files.updated.length + c.files.deleted.length > 0;
}

/**
 * Where pushes become revisions: applies one valid commit in one transaction. A flow gets a new
 * revision only when its source changed; flows missing from the commit are marked deleted (with a
 * revision recording it); namespace files are replaced by the commit's. Re-applying a commit
 * changes nothing.
 */
export async function applyCommit(
  db: Db,
  input: {
    commit: CommitInfo;
    flows: CommitFlow[];
    files: CommitFile[];
    repository: string;
    branch: string;
    reason: string;
    startedAt: Date;
    /** What the commit holds that is not synced (symbolic links, submodules). */
    warnings?: SyncProblem[];
  },
): Promise<SyncChanges> {
  // File contents are read before the transaction: no I/O to Git while rows are locked.
  const liveFiles = await db
    .select({ namespace: namespaceFiles.namespace, path: namespaceFiles.path, blobSha: namespaceFiles.blobSha })
    .from(namespaceFiles);
  const liveFileSha = new Map(liveFiles.map((f) => [`${f.namespace}:${f.path}`, f.blobSha]));
  const changedFiles: { file: CommitFile; content: Buffer; added: boolean }[] = [];
  for (const file of input.files) {
    const sha = liveFileSha.get(`${file.namespace}:${file.path}`);
    if (sha !== file.blobSha) changedFiles.push({ file, content: await file.content(), added: sha === undefined });
  }

  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${APPLY_LOCK})`);
    const changes = emptyChanges();
    const live = await tx
      .select({ namespace: flows.namespace, id: flows.id, revision: flows.revision, source: flows.source, deleted: flows.deleted, gitPath: flows.gitPath })
      .from(flows);
    const liveByKey = new Map(live.map((f) => [`${f.namespace}/${f.id}`, f]));
    const seen = new Set<string>();

    for (const flow of input.flows) {
      const key = `${flow.definition.namespace}/${flow.definition.id}`;
      seen.add(key);
      const current = liveByKey.get(key);
      if (current && !current.deleted && current.source === flow.source) {
        // Same content, maybe a moved file: keep the path current without a new revision.
        if (current.gitPath !== flow.path) {
          await tx.update(flows).set({ gitPath: flow.path }).where(and(eq(flows.namespace, current.namespace), eq(flows.id, current.id)));
        }
        continue;
      }
      const revision = (current?.revision ?? 0) + 1;
      const definition = { ...flow.definition, revision };
      await tx.insert(flowRevisions).values({
        namespace: flow.definition.namespace,
        flowId: flow.definition.id,
        revision,
        source: flow.source,
        definition,
        commit: input.commit,
        deleted: false,
        gitPath: flow.path,
      });
      await tx
        .insert(flows)
        .values({ namespace: flow.definition.namespace, id: flow.definition.id, revision, source: flow.source, definition, deleted: false, gitPath: flow.path })
        .onConflictDoUpdate({
          target: [flows.namespace, flows.id],
          set: { revision, source: flow.source, definition, deleted: false, gitPath: flow.path, updatedAt: sql`now()` },
        });
      (current && !current.deleted ? changes.updated : changes.added).push(`${flow.definition.namespace}.${flow.definition.id}`);
    }

    for (const current of live) {
      const key = `${current.namespace}/${current.id}`;
      if (current.deleted || seen.has(key)) continue;
      const revision = current.revision + 1;
      const [last] = await tx
        .select({ definition: flowRevisions.definition })
        .from(flowRevisions)
        .where(and(eq(flowRevisions.namespace, current.namespace), eq(flowRevisions.flowId, current.id), eq(flowRevisions.revision, current.revision)));
      await tx.insert(flowRevisions).values({
        namespace: current.namespace,
        flowId: current.id,
        revision,
        source: current.source,
        definition: last?.definition ?? {},
        commit: input.commit,
        deleted: true,
      });
      await tx
        .update(flows)
        .set({ deleted: true, revision, updatedAt: sql`now()` })
        .where(and(eq(flows.namespace, current.namespace), eq(flows.id, current.id)));
      changes.deleted.push(`${current.namespace}.${current.id}`);
    }

    for (const { file, content, added } of changedFiles) {
      await tx
        .insert(namespaceFiles)
        .values({ namespace: file.namespace, path: file.path, content, blobSha: file.blobSha, commitSha: input.commit.sha })
        .onConflictDoUpdate({
          target: [namespaceFiles.namespace, namespaceFiles.path],
          set: { content, blobSha: file.blobSha, commitSha: input.commit.sha, updatedAt: sql`now()` },
        });
      (added ? changes.files.added : changes.files.updated).push(`${file.namespace}:${file.path}`);
    }
    const inCommit = new Set(input.files.map((f) => `${f.namespace}:${f.path}`));
    for (const f of liveFiles) {
      if (inCommit.has(`${f.namespace}:${f.path}`)) continue;
      await tx.delete(namespaceFiles).where(and(eq(namespaceFiles.namespace, f.namespace), eq(namespaceFiles.path, f.path)));
      changes.files.deleted.push(`${f.namespace}:${f.path}`);
    }

    const now = new Date().toISOString();
    await writeSyncState(tx, {
      repository: input.repository,
      branch: input.branch,
      appliedCommit: input.commit,
      state: 'SYNCED',
      lastAttemptAt: input.startedAt.toISOString(),
      lastAttemptSha: input.commit.sha,
      lastSuccessAt: now,
      errors: [],
      warnings: input.warnings ?? [],
    });
    await tx.insert(syncHistory).values({
      startedAt: input.startedAt.toISOString(),
      finishedAt: now,
      reason: input.reason,
      commitSha: input.commit.sha,
      result: hasChanges(changes) ? 'APPLIED' : 'UNCHANGED',
      changes,
      errors: [],
      durationMs: Date.now() - input.startedAt.getTime(),
    });
    return changes;
  });
}

/** Records an attempt that applied nothing (refused commit, fetch error, unchanged head). */
export async function recordAttempt(
  db: Db,
  input: {
    repository: string;
    branch: string;
    reason: string;
    startedAt: Date;
    commitSha: string | null;
    result: 'UNCHANGED' | 'REFUSED' | 'ERROR';
    errors: SyncProblem[];
    /** The warnings of the commit whose tree was read; left as they were when none was (unchanged head, fetch error). */
    warnings?: SyncProblem[];
  },
): Promise<void> {
  const now = new Date().toISOString();
  const state = input.result === 'UNCHANGED' ? 'SYNCED' : input.result;
  const set = {
    repository: input.repository,
    branch: input.branch,
    state,
    lastAttemptAt: input.startedAt.toISOString(),
    lastAttemptSha: input.commitSha,
    // An unchanged head keeps the errors of nothing: the live commit is good.
    errors: input.errors,
    ...(input.warnings ? { warnings: input.warnings } : {}),
    ...(input.result === 'UNCHANGED' ? { lastSuccessAt: now } : {}),
  };
  await db.transaction(async (tx) => {
    await writeSyncState(tx, set);
    await tx.insert(syncHistory).values({
      startedAt: input.startedAt.toISOString(),
      finishedAt: now,
      reason: input.reason,
      commitSha: input.commitSha,
      result: input.result,
      changes: emptyChanges(),
      errors: input.errors,
      durationMs: Date.now() - input.startedAt.getTime(),
    });
  });
}
