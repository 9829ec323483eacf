import type { Db } from '../db/index.ts';
import type { FlowDef } from '../engine/index.ts';
import { validateFlowSource } from '../engine/flow/index.ts';
import { applyCommit, emptyChanges, recordAttempt, type CommitFile, type CommitFlow, type SyncChanges, type SyncProblem } from './apply.ts';
import type { SyncConfig } from './config.ts';
import { loadSyncStatus } from './status.ts';
import { GitSyncError, type GitCommitInfo, type GitSource } from './git/index.ts';

export type SyncResult = 'APPLIED' | 'UNCHANGED' | 'REFUSED' | 'ERROR';

export interface SyncOutcome {
  result: SyncResult;
  commit?: GitCommitInfo;
  changes: SyncChanges;
  errors: SyncProblem[];
  /** For ERROR: whether a person must act (bad credentials, missing branch) or a retry may do. */
  errorKind?: 'stalled' | 'transient';
  durationMs: number;
}

const NAMESPACE = /^[a-z0-9][a-z0-9._-]*$/;

/** Parsing and validating is the costly part: results are kept per blob, since most blobs do not change. */
export class ValidationCache {
  private readonly entries = new Map<string, { flow?: FlowDef; problems: { line: number; column: number; message: string; severity: string }[] }>();

  get(blobSha: string, source: () => string) {
    let entry = this.entries.get(blobSha);
    if (!entry) {
      const result = validateFlowSource(source());
      entry = { flow: result.flow, problems: result.problems };
      if (this.entries.size > 10_000) this.entries.clear();
      this.entries.set(blobSha, entry);
    }
    return entry;
  }
}

/**
 * One sync, as ordered, re-runnable steps: fetch → resolve the head commit → read the tree →
 * parse and validate every flow → apply in one transaction. A commit with any invalid flow
 * applies nothing and the last good commit stays live. Safe to re-run: it keys on the commit.
 */
export async function syncOnce(
  deps: { db: Db; source: GitSource; config: Pick<SyncConfig, 'flowsPath' | 'filesPath'>; branch: string; cache?: ValidationCache },
  reason: string,
): Promise<SyncOutcome> {
  const startedAt = new Date();
  const { db, source, config, branch } = deps;
  const repository = source.displayUrl;
  const done = (o: Omit<SyncOutcome, 'durationMs'>): SyncOutcome => ({ ...o, durationMs: Date.now() - startedAt.getTime() });

  // A Git failure at any step is recorded, never thrown: the live commit stays as it is.
  const gitFailure = async (err: unknown, commitSha: string | null): Promise<SyncOutcome> => {
    if (!(err instanceof GitSyncError)) throw err;
    const errors = [{ path: '', line: 0, column: 0, message: err.message }];
    await recordAttempt(db, { repository, branch, reason, startedAt, commitSha, result: 'ERROR', errors });
    return done({ result: 'ERROR', changes: emptyChanges(), errors, errorKind: err.kind });
  };

  // 1-2. fetch and resolve the head commit.
  let commit: GitCommitInfo;
  try {
    commit = await source.fetchHead();
  } catch (err) {
    return gitFailure(err, null);
  }
  const status = await loadSyncStatus(db);
  if (status?.appliedCommit?.sha === commit.sha && status.state === 'SYNCED') {
    await recordAttempt(db, { repository, branch, reason, startedAt, commitSha: commit.sha, result: 'UNCHANGED', errors: [] });
    return done({ result: 'UNCHANGED', commit, changes: emptyChanges(), errors: [] });
  }

  // 3. read the tree ('' as the flows path means the whole repository).
  let files;
  try {
    files = await source.listFiles(commit.sha, [config.flowsPath, config.filesPath]);
  } catch (err) {
    return gitFailure(err, commit.sha);
  }
  const flowPrefix = config.flowsPath ? `${config.flowsPath}/` : '';
  const filesPrefix = `${config.filesPath}/`;
  const errors: SyncProblem[] = [];
  const commitFlows: CommitFlow[] = [];
  const commitFiles: CommitFile[] = [];
  const cache = deps.cache ?? new ValidationCache();

  // 4. parse and validate every flow; every problem is reported, with its file and line.
  for (const file of files) {
    if (file.path.startsWith(filesPrefix)) {
      const rest = file.path.slice(filesPrefix.length);
      const slash = rest.indexOf('/');
      const namespace = slash === -1 ? '' : rest.slice(0, slash);
      if (!NAMESPACE.test(namespace)) {
        errors.push({ path: file.path, line: 0, column: 0, message: `namespace files must live under ${filesPrefix}<namespace>/, and '${namespace || rest}' is not a valid namespace` });
        continue;
      }
      commitFiles.push({ namespace, path: rest.slice(slash), blobSha: file.blobSha, content: () => source.readBlob(file.blobSha) });
    } else if (file.path.startsWith(flowPrefix) && /\.ya?ml$/i.test(file.path)) {
      let blob: Buffer;
      try {
        blob = await source.readBlob(file.blobSha);
      } catch (err) {
        return gitFailure(err, commit.sha);
      }
      const text = blob.toString('utf8');
      const result = cache.get(file.blobSha, () => text);
      for (const p of result.problems) {
        if (p.severity === 'error') errors.push({ path: file.path, line: p.line, column: p.column, message: p.message });
      }
      if (result.flow) commitFlows.push({ path: file.path, source: text, definition: result.flow });
    }
  }
  const byKey = new Map<string, string>();
  for (const flow of commitFlows) {
    const key = `${flow.definition.namespace}.${flow.definition.id}`;
    const other = byKey.get(key);
    if (other) errors.push({ path: flow.path, line: 1, column: 1, message: `flow ${key} is already defined in ${other}` });
    else byKey.set(key, flow.path);
  }
  if (errors.length) {
    await recordAttempt(db, { repository, branch, reason, startedAt, commitSha: commit.sha, result: 'REFUSED', errors });
    return done({ result: 'REFUSED', commit, changes: emptyChanges(), errors });
  }

  // 5. apply, all or nothing.
  const changes = await applyCommit(db, { commit, flows: commitFlows, files: commitFiles, repository, branch, reason, startedAt });
  return done({ result: 'APPLIED', commit, changes, errors: [] });
}
