/** Git sources: fetch a branch over http(s) or read a local repository, list its files, read blobs. */
export { DEFAULT_FETCH_TIMEOUT_MS, GitSource, branchNameProblem, type GitCommitInfo, type GitSourceOptions } from './git-source.ts';
export { GitSyncError, REASON_KINDS, isGitSyncError, type GitSyncErrorKind, type GitSyncReason } from './errors.ts';
export type { SkippedTreeEntry, TreeFile } from './object-store.ts';
export { stripCredentials, type GitAuth } from './source-url.ts';
