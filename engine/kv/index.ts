/** Per-namespace key/value store with Kestra's types and TTLs. */
export { DbKvStore } from './db-kv-store.ts';
export { InvalidKvKeyError, InvalidKvTtlError, InvalidKvValueError, KvError, KvKeyExistsError, KvKeyMissingError } from './errors.ts';
export type { KvEntry, KvSetOptions, KvStore, KvType } from './types.ts';
export { KV_TYPES, inferKvType } from './values.ts';
