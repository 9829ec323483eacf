/** Secrets: where `secret('NAME')` looks values up, and the masker that keeps them out of logs and outputs. */
export type { SecretStore } from './types.ts';
export { EnvSecretStore } from './env-secret-store.ts';
export { MIN_MASKED_LENGTH, SECRET_MASK, SecretMasker } from './secret-masker.ts';
export { SecretCipher, EncryptionKeyError, DecryptionError, ENCRYPTION_KEY_VARIABLE, ENCRYPTED_PREFIX, isEncryptedValue } from './encryption.ts';
export { LineMasker } from './secret-masker.ts';
