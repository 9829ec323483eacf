import type { Readable } from 'node:stream';

/**
 * Internal storage addressed by Kestra's `kestra:///…` URIs.
 * Implementations: local disk (`local-disk.ts`); others pass the same contract suite.
 */
export interface InternalStorage {
  /** Store bytes, a stream or a local file at `uri`; resolves to the normalised URI. */
  put(uri: string, data: Buffer | string | Readable | { file: string }): Promise<string>;
  /** A stream of the object; StorageError NOT_FOUND when absent. */
  get(uri: string): Promise<Readable>;
  readBuffer(uri: string): Promise<Buffer>;
  exists(uri: string): Promise<boolean>;
  size(uri: string): Promise<number>;
  delete(uri: string): Promise<boolean>;
  /** Delete everything under a URI prefix; resolves to the deleted URIs. */
  deletePrefix(prefix: string): Promise<string[]>;
  list(prefix: string): Promise<string[]>;
  /** Absolute local path of the object when the backend is a local disk (zero-copy reads). */
  localPath(uri: string): string | undefined;
}
