import type { KvType } from './types.ts';

/** Any refusal of the KV store; subclasses say which kind. */
export class KvError extends Error {
  constructor(
    message: string,
    readonly namespace: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KvError';
  }
}

/** The key does not match Kestra's pattern `^[a-zA-Z0-9][a-zA-Z0-9._-]*$`. */
export class InvalidKvKeyError extends KvError {
  constructor(namespace: string, key: string) {
    super(
      `invalid KV key '${key}' in namespace '${namespace}': keys start with a letter or digit ` +
        'and contain only letters, digits, dots, dashes and underscores',
      namespace,
      key,
    );
    this.name = 'InvalidKvKeyError';
  }
}

/** The value does not fit the requested type, or cannot be stored at all. */
export class InvalidKvValueError extends KvError {
  constructor(
    namespace: string,
    key: string,
    readonly type: KvType | string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid ${type} value for KV key '${key}' in namespace '${namespace}': ${reason}`, namespace, key, options);
    this.name = 'InvalidKvValueError';
  }
}

/** The `ttl` option is not an ISO-8601 duration. */
export class InvalidKvTtlError extends KvError {
  constructor(namespace: string, key: string, ttl: string, options?: { cause?: unknown }) {
    super(`invalid ttl '${ttl}' for KV key '${key}' in namespace '${namespace}': expected an ISO-8601 duration such as PT1H or P1D`, namespace, key, options);
    this.name = 'InvalidKvTtlError';
  }
}

/** `overwrite: false` and the key already holds a (not expired) value. */
export class KvKeyExistsError extends KvError {
  constructor(namespace: string, key: string) {
    super(`KV key '${key}' already exists in namespace '${namespace}' and overwrite is false`, namespace, key);
    this.name = 'KvKeyExistsError';
  }
}

/** `kv('KEY')` (or kv.Get/Delete with `errorOnMissing`) on a key that is absent or expired. */
export class KvKeyMissingError extends KvError {
  constructor(namespace: string, key: string) {
    super(`The key '${key}' does not exist in the namespace '${namespace}'.`, namespace, key);
    this.name = 'KvKeyMissingError';
  }
}
