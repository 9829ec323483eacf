import { describe, expect, test } from 'vitest';
import { MIN_MASKED_LENGTH, SECRET_MASK, SecretMasker } from './secret-masker.ts';

describe('SecretMasker', () => {
  test('masks every occurrence of every registered value', () => {
    const masker = new SecretMasker();
    masker.add('hunter2');
    masker.add('tok_ABC.123');
    expect(masker.mask('password=hunter2 token=tok_ABC.123 again hunter2')).toBe(
      `password=${SECRET_MASK} token=${SECRET_MASK} again ${SECRET_MASK}`,
    );
    expect(masker.mask('tok_ABCx123')).toBe('tok_ABCx123'); // '.' is literal, not a wildcard
  });

  test('without secrets, text is returned untouched', () => {
    const masker = new SecretMasker();
    expect(masker.mask('nothing to hide')).toBe('nothing to hide');
    const value = { a: ['x'] };
    expect(masker.maskDeep(value)).toBe(value);
  });

  test('regex metacharacters in secrets are literal', () => {
    const masker = new SecretMasker();
    masker.add('a+b*(c)|[d]$^\\e');
    expect(masker.mask('x a+b*(c)|[d]$^\\e y')).toBe(`x ${SECRET_MASK} y`);
    expect(masker.mask('aab')).toBe('aab');
  });

  test('the longest match wins when one secret contains another', () => {
    const masker = new SecretMasker();
    masker.add('abc');
    masker.add('abcdef');
    expect(masker.mask('abcdef abc')).toBe(`${SECRET_MASK} ${SECRET_MASK}`);
  });

  test('each line of a multi-line secret is masked on its own', () => {
    const masker = new SecretMasker();
    masker.add('-----BEGIN KEY-----\nMIIEvQIBADANBg\n  kqhkiG9w0BAQEF\n-----END KEY-----');
    expect(masker.mask('-----BEGIN KEY-----\nMIIEvQIBADANBg\n  kqhkiG9w0BAQEF\n-----END KEY-----')).toBe(SECRET_MASK);
    expect(masker.mask('line: MIIEvQIBADANBg')).toBe(`line: ${SECRET_MASK}`);
    expect(masker.mask('indented differently: kqhkiG9w0BAQEF')).toBe(`indented differently: ${SECRET_MASK}`);
    expect(masker.mask('CRLF copy:\r\nMIIEvQIBADANBg\r\n')).toBe(`CRLF copy:\r\n${SECRET_MASK}\r\n`);
  });

  test('JSON-escaped forms are masked', () => {
    const masker = new SecretMasker();
    const secret = 'pa"ss\\word\nline2-xyz';
    masker.add(secret);
    const log = JSON.stringify({ password: secret });
    expect(log).toContain('pa\\"ss\\\\word\\nline2-xyz');
    expect(masker.mask(log)).toBe(`{"password":"${SECRET_MASK}"}`);
    const unicode = new SecretMasker();
    unicode.add('mötörhead');
    expect(unicode.mask('{"p":"m\\u00f6t\\u00f6rhead"}')).toBe(`{"p":"${SECRET_MASK}"}`);
  });

  test(`values shorter than ${MIN_MASKED_LENGTH} characters are ignored`, () => {
    const masker = new SecretMasker();
    masker.add('');
    masker.add('1');
    masker.add('no');
    expect(masker.size).toBe(0);
    expect(masker.mask('no 1 in this line')).toBe('no 1 in this line');
    masker.add('abc');
    expect(masker.mask('abc ab')).toBe(`${SECRET_MASK} ab`);
  });

  test('short lines of a multi-line secret are not masked on their own', () => {
    const masker = new SecretMasker();
    masker.add('longer-line\nab\n');
    expect(masker.mask('ab')).toBe('ab');
    expect(masker.mask('x longer-line')).toBe(`x ${SECRET_MASK}`);
  });

  test('secrets added after a first mask are picked up', () => {
    const masker = new SecretMasker();
    masker.add('first-secret');
    expect(masker.mask('second-secret')).toBe('second-secret');
    masker.add('second-secret');
    expect(masker.mask('first-secret second-secret')).toBe(`${SECRET_MASK} ${SECRET_MASK}`);
  });

  test('maskDeep masks strings inside objects and arrays, keeps keys, other types and the original', () => {
    const masker = new SecretMasker();
    masker.add('s3cret');
    const when = new Date(0);
    const buffer = Buffer.from('s3cret');
    const input = {
      url: 'https://user:s3cret@host',
      nested: { list: ['ok', 's3cret', 42, null, true, { deep: 'x s3cret y' }] },
      s3cret: 'key stays',
      when,
      buffer,
    };
    const masked = masker.maskDeep(input);
    expect(masked).toEqual({
      url: `https://user:${SECRET_MASK}@host`,
      nested: { list: ['ok', SECRET_MASK, 42, null, true, { deep: `x ${SECRET_MASK} y` }] },
      s3cret: 'key stays',
      when,
      buffer,
    });
    expect(masked.when).toBe(when);
    expect(input.url).toBe('https://user:s3cret@host');
    expect(masker.maskDeep('plain s3cret')).toBe(`plain ${SECRET_MASK}`);
    expect(masker.maskDeep(7)).toBe(7);
  });

  test('maskDeep survives cycles', () => {
    const masker = new SecretMasker();
    masker.add('s3cret');
    const cyclic: Record<string, unknown> = { value: 's3cret' };
    cyclic.self = cyclic;
    const masked = masker.maskDeep(cyclic) as Record<string, unknown>;
    expect(masked.value).toBe(SECRET_MASK);
    expect(masked.self).toBe(masked);
  });

  test('many short lines against many secrets', () => {
    const masker = new SecretMasker();
    for (let i = 0; i < 500; i++) masker.add(`secret-value-${i}-${'x'.repeat(i % 7)}`);
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}: processed ${i % 100} rows`);
    lines[1234] = 'leaked secret-value-42- here';
    const masked = lines.map((line) => masker.mask(line));
    expect(masked[1234]).toBe(`leaked ${SECRET_MASK} here`);
    expect(masked[0]).toBe(lines[0]);
  });
});
