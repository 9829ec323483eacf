import { setImmediate as nextTurn } from 'node:timers/promises';
import { DEFAULT_LIMITS, type Limits } from '../config/index.ts';
import type { Db } from '../db/index.ts';
import type { FlowDef } from '../engine/index.ts';
import { fileSizeProblem, validateFlowSource } from '../engine/flow/index.ts';
import { applyCommit, emptyChanges, recordAttempt, type CommitFile, type CommitFlow, type SyncChanges, type SyncProblem } from './apply.ts';
import type { SyncConfig } from './config.ts';
import { loadSyncStatus } from './status.ts';
import { GitSyncError, type GitCommitInfo, type GitSource, type SkippedTreeEntry } from './git/index.ts';

export type SyncResult = 'APPLIED' | 'UNCHANGED' | 'REFUSED' | 'ERROR';

export interface SyncOutcome {
  result: SyncResult;
  commit?: GitCommitInfo;
  changes: SyncChanges;
  errors: SyncProblem[];
  /** What the commit holds that is not synced (symbolic links, submodules); empty when no tree was read. */
  warnings: SyncProblem[];
  /** For ERROR: whether a person must act (bad credentials, missing branch) or a retry may do. */
  errorKind?: 'stalled' | 'transient';
  durationMs: number;
}

const NAMESPACE = /^[a-z0-9][a-z0-9._-]*$/;

type CachedValidation = { flow?: FlowDef; problems: { line: number; column: number; message: string; severity: string }[] };

/**
 * Parsing and validating is the costly part: results are kept per blob, since most blobs do not change.
 * Validation is within `limits` (flow size, tasks, nesting), fixed for the cache's life.
 */
export class ValidationCache {
  private readonly entries = new Map<string, CachedValidation>();

  constructor(readonly limits: Limits = DEFAULT_LIMITS) {}

  has(blobSha: string): boolean {
    return this.entries.has(blobSha);
  }

  /** The flow file's validation; a blob over the size limit is refused by its size, never decoded. */
  get(blobSha: string, blob: Buffer): CachedValidation {
    let entry = this.entries.get(blobSha);
    if (!entry) {
      const tooBig = fileSizeProblem(blob.byteLength, this.limits);
      const result = tooBig ? { problems: [tooBig] } : validateFlowSource(blob.toString('utf8'), undefined, { limits: this.limits });
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
  deps: {
    db: Db;
    source: GitSource;
    config: Pick<SyncConfig, 'flowsPath' | 'filesPath'>;
    branch: string;
    /** The validation cache to reuse; its limits are the ones applied. */
    cache?: ValidationCache;
    /** Flow size limits, for a cache made here (default: config/limits.ts's defaults). */
    limits?: Limits;
  },
  reason: string,
): Promise<SyncOutcome> {
  const startedAt = new Date();
  const { db, source, config, branch } = deps;
  const repository = source.displayUrl;
  const done = (o: Omit<SyncOutcome, 'durationMs' | 'warnings'> & { warnings?: SyncProblem[] }): SyncOutcome => ({
    warnings: [],
    ...o,
    durationMs: Date.now() - startedAt.getTime(),
  });

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
  let skipped: SkippedTreeEntry[];
  try {
    ({ files, skipped } = await source.listTree(commit.sha, [config.flowsPath, config.filesPath]));
  } catch (err) {
    return gitFailure(err, commit.sha);
  }
  const flowPrefix = config.flowsPath ? `${config.flowsPath}/` : '';
  const filesPrefix = `${config.filesPath}/`;
  const isFlowPath = (path: string) => path.startsWith(flowPrefix) && /\.ya?ml$/i.test(path);
  const errors: SyncProblem[] = [];
  // A link named like a flow, any submodule among the flows (it may hold some), anything among the files.
  const warnings = skippedWarnings(skipped, ({ path, kind }) =>
    path.startsWith(filesPrefix) || (kind === 'submodule' ? path.startsWith(flowPrefix) : isFlowPath(path)));
  const commitFlows: CommitFlow[] = [];
  const commitFiles: CommitFile[] = [];
  const cache = deps.cache ?? new ValidationCache(deps.limits);

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
    } else if (isFlowPath(file.path)) {
      const fresh = !cache.has(file.blobSha);
      let blob: Buffer;
      try {
        // An oversized flow is refused by the size in its header: reading it would inflate it whole.
        const size = fresh ? await source.blobSize(file.blobSha) : undefined;
        const tooBig = size === undefined ? undefined : fileSizeProblem(size, cache.limits);
        if (tooBig) {
          errors.push({ path: file.path, line: tooBig.line, column: tooBig.column, message: tooBig.message });
          continue;
        }
        blob = await source.readBlob(file.blobSha);
      } catch (err) {
        return gitFailure(err, commit.sha);
      }
      const result = cache.get(file.blobSha, blob);
      for (const p of result.problems) {
        if (p.severity === 'error') errors.push({ path: file.path, line: p.line, column: p.column, message: p.message });
      }
      if (result.flow) commitFlows.push({ path: file.path, source: blob.toString('utf8'), definition: result.flow });
      // Validating is synchronous: a turn of the event loop between flows keeps requests answered
      // (health checks, the UI) while a commit of many or large flows is checked.
      if (fresh) await nextTurn();
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
    await recordAttempt(db, { repository, branch, reason, startedAt, commitSha: commit.sha, result: 'REFUSED', errors, warnings });
    return done({ result: 'REFUSED', commit, changes: emptyChanges(), errors, warnings });
  }

  // 5. apply, all or nothing.
  const changes = await applyCommit(db, { commit, flows: commitFlows, files: commitFiles, repository, branch, reason, startedAt, warnings });
  return done({ result: 'APPLIED', commit, changes, errors: [], warnings });
}

/** Entries of the tree that are never synced, as warnings: a file that silently does not arrive is a puzzle. */
function skippedWarnings(skipped: SkippedTreeEntry[], synced: (entry: SkippedTreeEntry) => boolean): SyncProblem[] {
  return skipped
    .filter(synced)
    .map((entry) => ({
      path: entry.path,
      line: 0,
      column: 0,
      message: entry.kind === 'symlink'
        ? 'symbolic link not synced: its target could lie outside the repository; commit the file itself'
        : 'submodule not synced: its files live in another repository; commit them here',
    }));
}
