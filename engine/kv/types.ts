/** Kestra's KV types. */
export type KvType = 'STRING' | 'NUMBER' | 'BOOLEAN' | 'DATETIME' | 'DATE' | 'DURATION' | 'JSON';

export interface KvEntry {
  namespace: string;
  key: string;
  type: KvType;
  value: unknown;
  description?: string;
  expirationDate?: string;
  updateDate: string;
}

export interface KvSetOptions {
  type?: KvType;
  /** ISO-8601 duration, e.g. PT1H. */
  ttl?: string;
  /** false: refuse to replace an existing key. */
  overwrite?: boolean;
  description?: string;
}

/** Per-namespace key/value store (expired entries read as absent). */
export interface KvStore {
  get(namespace: string, key: string): Promise<KvEntry | undefined>;
  set(namespace: string, key: string, value: unknown, options?: KvSetOptions): Promise<KvEntry>;
  delete(namespace: string, key: string): Promise<boolean>;
  list(namespace: string): Promise<KvEntry[]>;
}
