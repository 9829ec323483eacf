/**
 * Issue #12, finding 5: masking caught only the exact string, so `| base64`, a hex dump, URL encoding
 * or a secret printed in two pieces showed it. Each spelling is tried on the masker alone (every
 * variant, and where the secret sits inside a longer encoded text), then by a real shell task whose
 * output goes through the engine's log path.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase, type Database } from '../../db/index.ts';
import type { LogEntry } from '../../engine/index.ts';
import { SECRET_MASK, SecretMasker } from '../../engine/secrets/index.ts';
import { fixtureEngine, parseFlow } from '../support/fixtures.ts';

const SECRET = 'pa55:w0rd/with+sym&bols?=x';

const base64 = (text: string | Buffer) => Buffer.from(text).toString('base64');
const base64url = (text: string | Buffer) => Buffer.from(text).toString('base64url');

describe('SecretMasker: encoded spellings of a secret', () => {
  const masker = new SecretMasker();
  masker.add(SECRET);

  test.each([
    ['base64', base64(SECRET)],
    ['base64 without padding', base64(SECRET).replace(/=+$/, '')],
    ['base64url', base64url(SECRET)],
    ['base64url with padding', base64(SECRET).replace(/\+/g, '-').replace(/\//g, '_')],
    ['hex', Buffer.from(SECRET).toString('hex')],
    ['HEX', Buffer.from(SECRET).toString('hex').toUpperCase()],
    ['encodeURIComponent', encodeURIComponent(SECRET)],
    ['form encoding', encodeURIComponent(`${SECRET} x`).replace(/%20/g, '+')],
    ['lower-case percent escapes', encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())],
  ])('%s', (_name, encoded) => {
    const masked = masker.mask(`value: ${encoded} (end)`);
    expect(masked).toContain(SECRET_MASK);
    expect(masked).not.toContain(encoded);
  });

  test('inside a longer base64 text, at each of the three byte offsets', () => {
    for (const prefix of ['', 'u', 'us', 'use', 'user:', 'Authorization: Basic x']) {
      const encoded = base64(`${prefix}${SECRET}@host`);
      const masked = masker.mask(encoded);
      expect(masked, prefix).toContain(SECRET_MASK);
      // What is left shows at most the few characters that mix the secret with its neighbours.
      expect(masked.replace(SECRET_MASK, '').length, prefix).toBeLessThanOrEqual(encoded.length - (base64(SECRET).length - 4));
      expect(Buffer.from(masked.replace(SECRET_MASK, ''), 'base64').toString('latin1')).not.toContain(SECRET.slice(2, -2));
    }
  });

  test('any secret, at any offset of a base64 text, loses its core (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 64 }), fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (secret, before, after) => {
        const value = Buffer.from(secret).toString('latin1');
        const m = new SecretMasker();
        m.add(value);
        const encoded = Buffer.concat([before, Buffer.from(value, 'utf8'), after]).toString('base64');
        const masked = m.mask(encoded);
        // The secret's encoding spans ≥ 8 characters; at most 2 on each side may remain.
        return masked.includes(SECRET_MASK);
      }),
      { numRuns: 300 },
    );
  });

  test('encodings shorter than 6 characters are left alone: such fragments are in every hash', () => {
    const m = new SecretMasker();
    m.add('abc');
    expect(m.mask('abc')).toBe(SECRET_MASK);
    expect(m.mask('616263')).toBe(SECRET_MASK);
    expect(m.mask('YWJj')).toBe('YWJj');
    expect(m.mask('xFiYx')).toBe('xFiYx');
  });
});

describe('SecretMasker.lines: a secret across two consecutive lines', () => {
  const run = (masker: SecretMasker, lines: string[]) => {
    const out: string[] = [];
    const sequence = masker.lines<number>((_index, masked) => out.push(masked));
    lines.forEach((line, index) => sequence.push(index, line));
    sequence.end();
    return out;
  };

  test('every split point of the secret is masked on both lines', () => {
    const masker = new SecretMasker();
    masker.add(SECRET);
    for (let cut = 1; cut < SECRET.length; cut++) {
      const out = run(masker, ['before', `token=${SECRET.slice(0, cut)}`, `${SECRET.slice(cut)} after`, 'next']);
      const text = out.join('\n');
      expect(out, `cut ${cut}`).toHaveLength(4);
      // One or two characters on one side are what a 2-character secret would show.
      const shown = Math.min(cut, SECRET.length - cut) < 3 ? 2 : 0;
      if (shown === 0) {
        expect(out[1], `cut ${cut}`).toBe(`token=${SECRET_MASK}`);
        expect(out[2], `cut ${cut}`).toBe(' after');
      }
      expect(text, `cut ${cut}`).not.toContain(SECRET.slice(0, Math.max(cut, 3)));
      expect(text, `cut ${cut}`).not.toContain(SECRET.slice(Math.min(cut, SECRET.length - 3)));
    }
  });

  test('a base64 secret split in two lines (fold -w) is masked', () => {
    const masker = new SecretMasker();
    masker.add(SECRET);
    const encoded = base64(SECRET);
    const out = run(masker, [encoded.slice(0, 20), encoded.slice(20)]);
    expect(out.join('')).not.toContain(encoded.slice(0, 20));
    expect(out.join('')).not.toContain(encoded.slice(20));
  });

  test('ordinary lines pass at once, in order; a held line comes out with the next or at the end', () => {
    const masker = new SecretMasker();
    masker.add(SECRET);
    const out: string[] = [];
    const sequence = masker.lines<string>((_item, masked) => out.push(masked));
    sequence.push('a', 'plain line');
    expect(out).toEqual(['plain line']);
    sequence.push('b', `ends with ${SECRET.slice(0, 5)}`);
    expect(out).toEqual(['plain line']);
    sequence.push('c', 'unrelated');
    expect(out).toEqual(['plain line', `ends with ${SECRET.slice(0, 5)}`, 'unrelated']);
    sequence.push('d', `held ${SECRET.slice(0, 4)}`);
    sequence.end();
    expect(out.at(-1)).toBe(`held ${SECRET.slice(0, 4)}`);
  });
});

describe('a shell task printing a secret encoded or in pieces: its logs show none of it', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await database?.close();
  });

  test('base64, base64 -w 20, basenc --base64url, xxd -p, od, python quote, two echo commands', async () => {
    const engine = await fixtureEngine(database.db, { env: { SECRET_TOKEN: base64(SECRET) } });
    const flow = parseFlow(`id: leak
namespace: tests.masking
tasks:
  - id: leak
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    env:
      T: "{{ secret('TOKEN') }}"
    commands:
      - 'echo "plain $T"'
      - 'printf %s "$T" | base64'
      - 'printf %s "$T" | base64 -w 20'
      - 'printf %s "user:$T" | base64 -w0; echo'
      - 'printf %s "$T" | basenc --base64url'
      - 'printf %s "$T" | xxd -p -c 256'
      - 'printf %s "$T" | xxd -p -c 256 | tr a-f A-F'
      - 'python3 -c "import os, urllib.parse as u; print(u.quote(os.environ[\\"T\\"], safe=\\"\\")); print(u.quote_plus(os.environ[\\"T\\"]))"'
      - 'echo "first half \${T%%w0rd*}"; echo "w0rd\${T#*w0rd} second half"'
      - echo done
`);
    const logs: LogEntry[] = [];
    const stop = engine.onLog((entry) => logs.push(entry));
    const execution = await engine.execute({ flow });
    await engine.idle();
    stop();
    const text = logs.filter((l) => l.taskId === 'leak').map((l) => l.message).join('\n');
    expect(execution.state.current, text).toBe('SUCCESS');
    expect(text).toContain('done');
    const hex = Buffer.from(SECRET).toString('hex');
    for (const leaked of [
      SECRET, base64(SECRET), base64url(SECRET), hex, hex.toUpperCase(), encodeURIComponent(SECRET),
      base64(SECRET).slice(0, 20), base64(SECRET).slice(20), 'pa55:', 'with+sym&bols?=x',
    ]) {
      expect(text, leaked).not.toContain(leaked);
    }
    expect(text).toContain(`first half ${SECRET_MASK}`);
    expect(text).toContain(' second half');
  });
});
