import type { Limits } from '../config/index.ts';
import { KvKeyMissingError } from './kv/errors.ts';
import type { KvStore } from './kv/types.ts';
import type { SecretStore } from './secrets/types.ts';
import type { TemplateServices } from './template/index.ts';

/** What `kv()` and `secret()` reach: the KV store, the secret store, and the masker secrets join. */
export interface LookupResources {
  kv: KvStore;
  secrets: SecretStore;
  masker: { add(value: string): void };
  /** The engine's limits; trigger templates render within them (default: DEFAULT_LIMITS). */
  limits?: Readonly<Limits>;
}

/**
 * `kv()` and `secret()` for templates of a flow in `namespace` (tasks and triggers alike). A secret
 * that is read is registered with the masker, so it never shows in logs or outputs.
 */
export function lookupServices(resources: LookupResources, namespace: string): Pick<TemplateServices, 'kv' | 'secret' | 'limits'> {
  return {
    limits: resources.limits,
    async kv(key, kvNamespace, errorOnMissing) {
      const entry = await resources.kv.get(kvNamespace ?? namespace, key);
      if (!entry) {
        if (errorOnMissing) throw new KvKeyMissingError(kvNamespace ?? namespace, key);
        return null;
      }
      return entry.value;
    },
    async secret(name) {
      const value = await resources.secrets.get(name);
      if (value !== undefined) resources.masker.add(value);
      return value;
    },
  };
}
