import type { SecretStore } from './types.ts';

const PREFIX = 'SECRET_';

/**
 * Kestra OSS secrets: environment variables `SECRET_<NAME>` holding base64 values, read once.
 * `get('my_key')` finds `SECRET_MY_KEY` (names are upper-cased). Line breaks in a value are dropped
 * before decoding, so `base64` output wrapped at 76 columns works. A value that is not base64 is
 * skipped and reported in `warnings` (naming the variable, never the value).
 */
export class EnvSecretStore implements SecretStore {
  readonly warnings: readonly string[];
  private readonly secrets: ReadonlyMap<string, string>;

  constructor(env: Record<string, string | undefined> = process.env) {
    const secrets = new Map<string, string>();
    const warnings: string[] = [];
    for (const [variable, raw] of Object.entries(env)) {
      if (!variable.startsWith(PREFIX) || raw === undefined) continue;
      const name = variable.slice(PREFIX.length).toUpperCase();
      if (name === '') continue;
      const decoded = decodeBase64Strict(raw.replace(/\r?\n|\r/g, ''));
      if (decoded === undefined) {
        warnings.push(`Could not decode secret '${variable}', make sure it is Base64-encoded`);
        continue;
      }
      secrets.set(name, decoded);
    }
    this.secrets = secrets;
    this.warnings = warnings;
  }

  async get(name: string): Promise<string | undefined> {
    return this.secrets.get(name.toUpperCase());
  }

  /** Names (upper-cased, without the prefix) of the secrets that decoded. */
  names(): string[] {
    return [...this.secrets.keys()].sort();
  }
}

/**
 * Base64 as Java's `Base64.getDecoder()` reads it: the standard alphabet only, padding optional but
 * correct when present. Node's own decoder silently skips invalid characters, which would turn a
 * mistyped secret into garbage instead of a warning.
 */
function decodeBase64Strict(text: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*(?:={1,2})?$/.test(text)) return undefined;
  const padded = text.endsWith('=');
  if (padded ? text.length % 4 !== 0 : text.length % 4 === 1) return undefined;
  // Like Java's `new String(bytes)`: malformed UTF-8 becomes U+FFFD rather than an error.
  return Buffer.from(text, 'base64').toString('utf8');
}
