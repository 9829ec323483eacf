import { describe, expect, test } from 'vitest';
import { EnvSecretStore } from './env-secret-store.ts';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('EnvSecretStore', () => {
  test('reads SECRET_<NAME> base64 values, looked up by upper-cased name', async () => {
    const store = new EnvSecretStore({
      SECRET_API_KEY: b64('s3cr3t-value'),
      SECRET_lower_case: b64('lower'),
      API_KEY: b64('not a secret variable'),
      SECRETS_OLD_STYLE: b64('old prefix is not read'),
    });
    expect(await store.get('API_KEY')).toBe('s3cr3t-value');
    expect(await store.get('api_key')).toBe('s3cr3t-value');
    expect(await store.get('Api_Key')).toBe('s3cr3t-value');
    expect(await store.get('LOWER_CASE')).toBe('lower');
    expect(await store.get('OLD_STYLE')).toBeUndefined();
    expect(await store.get('MISSING')).toBeUndefined();
    expect(store.names()).toEqual(['API_KEY', 'LOWER_CASE']);
    expect(store.warnings).toEqual([]);
  });

  test('line breaks in the encoded value are dropped before decoding', async () => {
    const json = JSON.stringify({ type: 'service_account', private_key: 'x'.repeat(200) });
    const wrapped = b64(json).replace(/(.{76})/g, '$1\n');
    expect(wrapped).toContain('\n');
    const store = new EnvSecretStore({ SECRET_GCP: wrapped, SECRET_CRLF: `${b64('abcdef').slice(0, 4)}\r\n${b64('abcdef').slice(4)}` });
    expect(await store.get('gcp')).toBe(json);
    expect(await store.get('crlf')).toBe('abcdef');
  });

  test('multi-line and non-ASCII values decode as UTF-8', async () => {
    const pem = '-----BEGIN KEY-----\nAAAA\nBBBB\n-----END KEY-----\n';
    const store = new EnvSecretStore({ SECRET_PEM: b64(pem), SECRET_UNICODE: b64('pässwörd ✓') });
    expect(await store.get('pem')).toBe(pem);
    expect(await store.get('unicode')).toBe('pässwörd ✓');
  });

  test('padding is optional but must be right when present', async () => {
    const store = new EnvSecretStore({ SECRET_NOPAD: 'YWJj', SECRET_NOPAD2: 'YWI', SECRET_PAD: 'YWI=', SECRET_BADPAD: 'YWI==' });
    expect(await store.get('nopad')).toBe('abc');
    expect(await store.get('nopad2')).toBe('ab');
    expect(await store.get('pad')).toBe('ab');
    expect(await store.get('badpad')).toBeUndefined();
  });

  test('an undecodable value is skipped with a warning that names the variable, not the value', async () => {
    const store = new EnvSecretStore({
      SECRET_PLAIN: 'plain-text-password!',
      SECRET_SPACES: 'YWJj ZGVm',
      SECRET_ONE_CHAR_TOO_MANY: 'YWJjZ',
      SECRET_GOOD: b64('fine'),
      SECRET_: b64('no name'),
    });
    expect(await store.get('plain')).toBeUndefined();
    expect(await store.get('spaces')).toBeUndefined();
    expect(await store.get('one_char_too_many')).toBeUndefined();
    expect(await store.get('good')).toBe('fine');
    expect(store.warnings).toHaveLength(3);
    expect(store.warnings[0]).toContain("'SECRET_PLAIN'");
    expect(store.warnings.join('\n')).not.toContain('plain-text-password');
  });

  test('defaults to process.env', async () => {
    process.env.SECRET_BATON_TEST_DEFAULT_ENV = b64('from-process-env');
    try {
      expect(await new EnvSecretStore().get('baton_test_default_env')).toBe('from-process-env');
    } finally {
      delete process.env.SECRET_BATON_TEST_DEFAULT_ENV;
    }
  });
});
