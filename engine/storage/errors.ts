/** Why a storage call was refused: the object is absent, the URI escapes the store, or it is malformed. */
export type StorageErrorCode = 'NOT_FOUND' | 'TRAVERSAL' | 'INVALID_URI';

/** A refused storage call; `uri` is the URI as the caller gave it, and the message quotes it. */
export class StorageError extends Error {
  override readonly name = 'StorageError';

  constructor(
    readonly code: StorageErrorCode,
    readonly uri: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    // JSON quoting keeps control characters (a NUL in a hostile URI) visible and harmless in logs.
    super(`${reason}: ${JSON.stringify(uri)}`, options);
  }
}

/** True for a StorageError (of `code`, when given). */
export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return error instanceof StorageError && (code === undefined || error.code === code);
}
