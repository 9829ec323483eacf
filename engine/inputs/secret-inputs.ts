/**
 * SECRET inputs at rest and in use, as Kestra keeps them: encrypted when the execution is created
 * (so the database, the API and the dashboard only ever hold the encrypted value), decrypted in
 * memory only where a task's template reads `inputs.<id>`, and then registered with the masker so
 * the clear value never reaches a log or an output.
 */
import type { InputDef } from '../flow/types.ts';
import { ENCRYPTION_KEY_VARIABLE, isEncryptedValue, type SecretCipher } from '../secrets/encryption.ts';
import { SECRET_MASK } from '../secrets/secret-masker.ts';
import { InputValidationError } from './errors.ts';

/** SECRET inputs of a flow. */
function secretDefs(defs: readonly InputDef[] | undefined): InputDef[] {
  return (defs ?? []).filter((def) => def.type === 'SECRET');
}

/**
 * The resolved inputs with every SECRET value encrypted (inputs nest by dotted id). A flow that
 * declares a SECRET input cannot be run without a key: InputValidationError naming BATON_ENCRYPTION_KEY,
 * before anything is stored.
 */
export function encryptSecretInputs(
  defs: readonly InputDef[] | undefined,
  inputs: Record<string, unknown>,
  cipher: SecretCipher | undefined,
): Record<string, unknown> {
  const secrets = secretDefs(defs);
  if (secrets.length === 0) return inputs;
  if (!cipher) {
    throw new InputValidationError(secrets.map((def) => ({
      inputId: def.id,
      message: `Input '${def.id}' is a SECRET: Baton stores SECRET inputs encrypted and has no key; set ${ENCRYPTION_KEY_VARIABLE} ` +
        '(32 random bytes in base64, e.g. `openssl rand -base64 32`) to run this flow',
    })));
  }
  let result = inputs;
  for (const def of secrets) {
    const value = getPath(result, def.id);
    if (typeof value !== 'string' || isEncryptedValue(value)) continue;
    result = setPath(result, def.id, cipher.encrypt(value));
  }
  return result;
}

/**
 * `inputs` as a task's templates see them: each encrypted SECRET value is decrypted the first time it
 * is read (a getter), and handed to `onDecrypt` (the masker) before anyone gets it. Values not read
 * are never decrypted. Without a cipher, reading one fails naming BATON_ENCRYPTION_KEY.
 */
export function decryptingInputs(
  defs: readonly InputDef[] | undefined,
  inputs: Record<string, unknown>,
  cipher: SecretCipher | undefined,
  onDecrypt: (value: string) => void,
): Record<string, unknown> {
  let view = inputs;
  for (const def of secretDefs(defs)) {
    const stored = getPath(inputs, def.id);
    if (typeof stored !== 'string') continue;
    let clear: string | undefined;
    const read = () => {
      // Stored in clear by a Baton before encryption: still masked once read.
      if (clear === undefined && !isEncryptedValue(stored)) {
        onDecrypt(stored);
        clear = stored;
      }
      if (clear === undefined) {
        if (!cipher) throw new Error(`cannot read SECRET input '${def.id}': it is stored encrypted and ${ENCRYPTION_KEY_VARIABLE} is not set`);
        let value: string;
        try {
          value = cipher.decrypt(stored);
        } catch (error) {
          throw new Error(`cannot read SECRET input '${def.id}': ${(error as Error).message}`, { cause: error });
        }
        onDecrypt(value);
        clear = value;
      }
      return clear;
    };
    view = setPath(view, def.id, undefined, read);
  }
  return view;
}

/** `inputs` for readers (API, dashboard): every encrypted value, at any depth, shown as `******`. */
export function redactSecretInputs(inputs: Record<string, unknown> | null | undefined): Record<string, unknown> {
  if (!inputs) return {};
  return redact(inputs) as Record<string, unknown>;
}

/** An execution as readers get it: SECRET inputs shown as `******` (the same object when it holds none). */
export function redactExecution<T extends { inputs: Record<string, unknown> | null | undefined }>(execution: T): T {
  if (!execution.inputs) return execution;
  const inputs = redactSecretInputs(execution.inputs);
  return inputs === execution.inputs ? execution : { ...execution, inputs };
}

function redact(value: unknown): unknown {
  if (isEncryptedValue(value)) return SECRET_MASK;
  if (Array.isArray(value)) {
    const items = value.map(redact);
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    let copy: Record<string, unknown> | undefined;
    for (const [key, item] of Object.entries(value)) {
      const masked = redact(item);
      if (masked !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = masked;
    }
    return copy ?? value;
  }
  return value;
}

/** The value at a dotted id: the flat key (`a.b` as one key) first, then the nested path, as inputs are stored nested. */
function getPath(inputs: Record<string, unknown>, id: string): unknown {
  if (Object.hasOwn(inputs, id)) return inputs[id];
  let current: unknown = inputs;
  for (const part of id.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * A copy of `inputs` with the value at `id` replaced (or turned into an enumerable getter), copying only
 * the maps on the way; `inputs` itself is left as it was.
 */
function setPath(inputs: Record<string, unknown>, id: string, value: unknown, getter?: () => unknown): Record<string, unknown> {
  const parts = Object.hasOwn(inputs, id) ? [id] : id.split('.');
  const root = shallowCopy(inputs);
  let current = root;
  for (const part of parts.slice(0, -1)) {
    const next = shallowCopy(current[part] as Record<string, unknown>);
    current[part] = next;
    current = next;
  }
  const leaf = parts[parts.length - 1];
  if (getter) Object.defineProperty(current, leaf, { get: getter, enumerable: true, configurable: true });
  else current[leaf] = value;
  return root;
}

/** A copy that keeps getters as getters (a spread would call them, decrypting every SECRET input). */
function shallowCopy(value: Record<string, unknown>): Record<string, unknown> {
  return Object.defineProperties({}, Object.getOwnPropertyDescriptors(value));
}
