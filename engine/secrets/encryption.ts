/**
 * Encryption at rest of SECRET inputs, as Kestra's `kestra.encryption.secret-key` does it: AES-256-GCM
 * with a random 12-byte IV, the IV stored before the ciphertext and its 16-byte tag, all in base64.
 * Baton prefixes the stored text with `baton-encrypted:v1:` so anything that reads executions (the API,
 * the dashboard) can tell an encrypted value without the flow's definition and show `******` instead.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The key: 32 random bytes in base64 (`openssl rand -base64 32`). */
export const ENCRYPTION_KEY_VARIABLE = 'BATON_ENCRYPTION_KEY';

/** Marks a value stored encrypted. */
export const ENCRYPTED_PREFIX = 'baton-encrypted:v1:';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** BATON_ENCRYPTION_KEY is set but is not a usable key: Baton refuses to start. */
export class EncryptionKeyError extends Error {
  override readonly name = 'EncryptionKeyError';
}

/** A stored value that cannot be decrypted: another key, or a damaged value. */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
}

/** True for a value stored by `SecretCipher.encrypt`. */
export function isEncryptedValue(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(ENCRYPTED_PREFIX);
}

/** AES-256-GCM with one key. */
export class SecretCipher {
  private constructor(private readonly key: Buffer) {}

  /**
   * The cipher of BATON_ENCRYPTION_KEY, undefined when it is unset or empty. The key is base64
   * (standard or URL-safe, padding optional) of exactly 32 bytes; anything else is an
   * EncryptionKeyError that says how to make one, never echoing the value.
   */
  static fromEnv(env: Record<string, string | undefined> = process.env): SecretCipher | undefined {
    const raw = env[ENCRYPTION_KEY_VARIABLE]?.trim();
    if (!raw) return undefined;
    const how = `${ENCRYPTION_KEY_VARIABLE} must be 32 random bytes in base64 (make one with: openssl rand -base64 32)`;
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) throw new EncryptionKeyError(`${how}; it is not base64`);
    const key = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length !== KEY_BYTES) throw new EncryptionKeyError(`${how}; it decodes to ${key.length} bytes`);
    return new SecretCipher(key);
  }

  /** A cipher on a key given as bytes (tests, tools). */
  static fromKey(key: Buffer): SecretCipher {
    if (key.length !== KEY_BYTES) throw new EncryptionKeyError(`an AES-256 key is ${KEY_BYTES} bytes, got ${key.length}`);
    return new SecretCipher(Buffer.from(key));
  }

  encrypt(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ENCRYPTED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
  }

  /** The clear text of an `encrypt` result; DecryptionError when it was made with another key or is damaged. */
  decrypt(stored: string): string {
    if (!isEncryptedValue(stored)) throw new DecryptionError('the value is not an encrypted value');
    const data = Buffer.from(stored.slice(ENCRYPTED_PREFIX.length), 'base64');
    if (data.length < IV_BYTES + TAG_BYTES) throw new DecryptionError('the encrypted value is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new DecryptionError(`it does not decrypt with ${ENCRYPTION_KEY_VARIABLE} (encrypted with another key, or damaged)`, { cause: error });
    }
  }
}
