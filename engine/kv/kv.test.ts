import { and, eq } from 'drizzle-orm';
import { beforeAll, expect, test } from 'vitest';
import { kv, type Db } from '../../db/index.ts';
import { describeEachDatabase } from '../../test/support/databases.ts';
import { InvalidDurationError } from '../duration.ts';
import {
  DbKvStore,
  InvalidKvKeyError,
  InvalidKvTtlError,
  InvalidKvValueError,
  KvError,
  KvKeyExistsError,
  type KvSetOptions,
  type KvType,
} from './index.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The rejection of `promise` (fails the test if it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(Error);
  return outcome.error as Error;
}

describeEachDatabase('kv store', (open) => {
  let db: Db;
  let store: DbKvStore;
  beforeAll(async () => {
    db = (await open()).db;
    store = new DbKvStore(db);
  });

  /** Rows physically present, expired or not. */
  const storedKeys = async (namespace: string) =>
    (await db.select({ key: kv.key }).from(kv).where(eq(kv.namespace, namespace))).map((r) => r.key).sort();

  test.each<[KvType, unknown, unknown]>([
    ['STRING', 'hello wörld', 'hello wörld'],
    ['STRING', '', ''],
    ['STRING', 42, '42'],
    ['STRING', true, 'true'],
    // strings that parse as JSON stay strings (drizzle's jsonb mapping alone would turn them into numbers, objects…)
    ['STRING', '42', '42'],
    ['STRING', 'null', 'null'],
    ['STRING', '{"a": 1}', '{"a": 1}'],
    ['NUMBER', 42.5, 42.5],
    ['NUMBER', ' -1e3 ', -1000],
    ['NUMBER', '0', 0],
    ['NUMBER', 12n, 12],
    ['BOOLEAN', true, true],
    ['BOOLEAN', 'FALSE', false],
    ['BOOLEAN', 'true', true],
    ['DATETIME', '2024-05-01T14:00:00+02:00', '2024-05-01T12:00:00.000Z'],
    ['DATETIME', '2024-05-01T12:00:00.123456Z', '2024-05-01T12:00:00.123Z'],
    ['DATETIME', new Date('2024-05-01T12:00:00Z'), '2024-05-01T12:00:00.000Z'],
    ['DATE', '2024-02-29', '2024-02-29'],
    ['DATE', new Date('2024-05-01T23:30:00Z'), '2024-05-01'],
    ['DURATION', 'PT1H', 'PT1H'],
    ['DURATION', 'p1dt2h', 'P1DT2H'],
    ['JSON', { a: [1, { b: null }], s: 'x' }, { a: [1, { b: null }], s: 'x' }],
    ['JSON', '{"a": [1, 2]}', { a: [1, 2] }],
    ['JSON', '"just a string"', 'just a string'],
    ['JSON', [1, 'two', false], [1, 'two', false]],
    ['JSON', null, null],
    ['JSON', { when: new Date('2024-05-01T00:00:00Z'), gone: undefined }, { when: '2024-05-01T00:00:00.000Z' }],
  ])('%s %o is stored as %o', async (type, value, expected) => {
    const key = `typed-${type}-${Math.random().toString(36).slice(2)}`;
    const saved = await store.set('types', key, value, { type });
    expect(saved).toMatchObject({ namespace: 'types', key, type, value: expected });
    const read = await store.get('types', key);
    expect(read?.type).toBe(type);
    expect(read?.value).toEqual(expected);
  });

  test.each<[string, unknown, KvType, unknown]>([
    ['a string', 'text', 'STRING', 'text'],
    ['a number', 3.25, 'NUMBER', 3.25],
    ['a boolean', false, 'BOOLEAN', false],
    ['a Date', new Date('2024-05-01T12:00:00Z'), 'DATETIME', '2024-05-01T12:00:00.000Z'],
    ['an object', { nested: { list: [1, 2] } }, 'JSON', { nested: { list: [1, 2] } }],
    ['an array', ['a', 1], 'JSON', ['a', 1]],
    ['null', null, 'STRING', null],
    ['an ISO date-looking string', '2024-05-01', 'STRING', '2024-05-01'],
    ['a numeric string', '007', 'STRING', '007'],
  ])('infers the type of %s', async (_, value, type, expected) => {
    const key = `inferred-${type}-${Math.random().toString(36).slice(2)}`;
    expect(await store.set('inferred', key, value)).toMatchObject({ type, value: expected });
    expect(await store.get('inferred', key)).toMatchObject({ type, value: expected });
  });

  test.each<[string, unknown, KvSetOptions['type'] | undefined, RegExp]>([
    ['NUMBER from text', 'abc', 'NUMBER', /expected a finite number, got 'abc'/],
    ['NUMBER from an empty string', '', 'NUMBER', /expected a finite number/],
    ['NUMBER from a too large bigint', 2n ** 64n, 'NUMBER', /too large/],
    ['inferred NaN', Number.NaN, undefined, /expected a finite number, got number NaN/],
    ['BOOLEAN from yes', 'yes', 'BOOLEAN', /expected true or false, got 'yes'/],
    ['DATETIME without a time', '2024-05-01', 'DATETIME', /date-time with a zone/],
    ['DATETIME without a zone', '2024-05-01T12:00:00', 'DATETIME', /date-time with a zone/],
    ['DATETIME out of range', '2024-13-01T12:00:00Z', 'DATETIME', /date-time with a zone/],
    ['an invalid Date', new Date('nope'), undefined, /got an invalid Date/],
    ['DATE that does not exist', '2023-02-29', 'DATE', /expected an ISO-8601 date/],
    ['DATE with a time', '2024-05-01T00:00:00Z', 'DATE', /expected an ISO-8601 date/],
    ['DURATION in words', '1 hour', 'DURATION', /expected an ISO-8601 duration/],
    ['DURATION from a number', 3600, 'DURATION', /expected an ISO-8601 duration/],
    ['JSON from broken text', '{"a":', 'JSON', /expected JSON text/],
    ['JSON holding a function', { f: () => 1 }, 'JSON', /\$\.f is a function/],
    ['JSON holding a Map', { m: new Map() }, undefined, /\$\.m is a Map, not plain data/],
    ['JSON holding Infinity', [1, Infinity], undefined, /\$\[1\] is Infinity/],
    ['JSON with a cycle', (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })(), undefined, /\$\.self refers back/],
    ['STRING from an object', { a: 1 }, 'STRING', /expected a string, got an object/],
    ['a typed null', null, 'NUMBER', /null is not a value of this type/],
    ['undefined', undefined, undefined, /no value given/],
    ['an unknown type', 'x', 'FLOAT' as KvType, /invalid FLOAT value .* unknown type; expected one of STRING, NUMBER/],
  ])('refuses %s', async (_, value, type, message) => {
    const error = await rejectionOf(store.set('invalid', 'k', value, { type }));
    expect(error).toBeInstanceOf(InvalidKvValueError);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`KV key 'k' in namespace 'invalid'`);
    expect(await store.get('invalid', 'k')).toBeUndefined();
  });

  test('set returns the full entry with description and ISO dates', async () => {
    const before = Date.now();
    const entry = await store.set('shape', 'k', 'v', { description: 'why it exists', ttl: 'P1D' });
    expect(entry).toEqual({
      namespace: 'shape', key: 'k', type: 'STRING', value: 'v', description: 'why it exists',
      expirationDate: expect.stringMatching(/Z$/), updateDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
    const expires = Date.parse(entry.expirationDate!) - before;
    expect(expires).toBeGreaterThanOrEqual(86_400_000 - 1_000);
    expect(expires).toBeLessThanOrEqual(86_400_000 + 5_000);
    expect(await store.get('shape', 'k')).toEqual(entry);
    const plain = await store.set('shape', 'plain', 1);
    expect(plain).not.toHaveProperty('description');
    expect(plain).not.toHaveProperty('expirationDate');
  });

  test('an entry past its ttl reads as absent and is purged', async () => {
    await store.set('ttl', 'short', 'soon gone', { ttl: 'PT0.2S' });
    await store.set('ttl', 'long', 'stays', { ttl: 'PT1H' });
    await store.set('ttl', 'forever', 'stays');
    expect((await store.get('ttl', 'short'))?.value).toBe('soon gone');
    await sleep(300);
    expect(await store.get('ttl', 'short')).toBeUndefined();
    expect(await storedKeys('ttl')).toEqual(['forever', 'long']);
  });

  test('list skips and purges expired entries; delete of an expired entry reports false', async () => {
    await store.set('ttl-list', 'a', 1, { ttl: 'PT0.2S' });
    await store.set('ttl-list', 'b', 2, { ttl: 'PT0.2S' });
    await store.set('ttl-list', 'c', 3);
    await sleep(300);
    expect(await storedKeys('ttl-list')).toEqual(['a', 'b', 'c']);
    expect(await store.delete('ttl-list', 'b')).toBe(false);
    expect((await store.list('ttl-list')).map((e) => e.key)).toEqual(['c']);
    expect(await storedKeys('ttl-list')).toEqual(['c']);
  });

  test('a bad ttl is a typed error and stores nothing', async () => {
    const error = await rejectionOf(store.set('ttl-bad', 'k', 'v', { ttl: '1 day' }));
    expect(error).toBeInstanceOf(InvalidKvTtlError);
    expect(error.message).toContain(`invalid ttl '1 day' for KV key 'k' in namespace 'ttl-bad'`);
    expect(error.cause).toBeInstanceOf(InvalidDurationError);
    expect(await store.get('ttl-bad', 'k')).toBeUndefined();
  });

  test('overwrite: false refuses an existing key and keeps its value', async () => {
    await store.set('overwrite', 'k', 'first');
    const error = await rejectionOf(store.set('overwrite', 'k', 'second', { overwrite: false }));
    expect(error).toBeInstanceOf(KvKeyExistsError);
    expect(error).toMatchObject({ namespace: 'overwrite', key: 'k' });
    expect(error.message).toBe(`KV key 'k' already exists in namespace 'overwrite' and overwrite is false`);
    expect((await store.get('overwrite', 'k'))?.value).toBe('first');

    expect((await store.set('overwrite', 'fresh', 'new', { overwrite: false })).value).toBe('new');
  });

  test('overwrite: false may replace an expired entry', async () => {
    await store.set('overwrite', 'expiring', 'old', { ttl: 'PT0.1S' });
    await sleep(200);
    const entry = await store.set('overwrite', 'expiring', 'new', { overwrite: false });
    expect(entry).toMatchObject({ value: 'new' });
    expect(entry).not.toHaveProperty('expirationDate');
  });

  test('overwrite: false lets exactly one of several racing writers win', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => store.set('race', 'k', i, { overwrite: false })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(KvKeyExistsError);
    expect((await store.get('race', 'k'))?.value).toBe((won[0] as PromiseFulfilledResult<{ value: unknown }>).value.value);
  });

  test('overwriting replaces value, type, description and ttl, and moves updateDate', async () => {
    const first = await store.set('replace', 'k', 'text', { description: 'd', ttl: 'PT1H' });
    await sleep(20);
    const second = await store.set('replace', 'k', { now: 'json' });
    expect(second).toMatchObject({ type: 'JSON', value: { now: 'json' } });
    expect(second).not.toHaveProperty('description');
    expect(second).not.toHaveProperty('expirationDate');
    expect(Date.parse(second.updateDate)).toBeGreaterThan(Date.parse(first.updateDate));
  });

  test('delete reports whether something was there', async () => {
    await store.set('delete', 'k', 'v');
    expect(await store.delete('delete', 'k')).toBe(true);
    expect(await store.get('delete', 'k')).toBeUndefined();
    expect(await store.delete('delete', 'k')).toBe(false);
    expect(await store.delete('delete', 'never-set')).toBe(false);
  });

  test('list returns the namespace entries sorted by key', async () => {
    await store.set('listing', 'b', 2);
    await store.set('listing', 'a', 'one', { description: 'first' });
    await store.set('listing', 'C', true);
    await store.set('listing.child', 'a', 'not mine');
    const entries = await store.list('listing');
    // byte order: upper case first, whatever the database's locale
    expect(entries.map((e) => [e.key, e.type, e.value])).toEqual([
      ['C', 'BOOLEAN', true],
      ['a', 'STRING', 'one'],
      ['b', 'NUMBER', 2],
    ]);
    expect(entries.find((e) => e.key === 'a')).toMatchObject({ namespace: 'listing', description: 'first' });
    expect(await store.list('nothing.here')).toEqual([]);
  });

  test.each(['', '.hidden', '-dash', '_under', 'has space', 'a/b', 'ключ', 'semi;colon', 'k\n'])('refuses the key %j', async (key) => {
    for (const attempt of [store.set('keys', key, 'v'), store.get('keys', key), store.delete('keys', key)]) {
      const error = await rejectionOf(attempt);
      expect(error).toBeInstanceOf(InvalidKvKeyError);
      expect(error).toMatchObject({ namespace: 'keys', key });
      expect(error.message).toContain(`invalid KV key '${key}' in namespace 'keys'`);
    }
    expect(await store.list('keys')).toEqual([]);
  });

  test('accepts every key shape Kestra does', async () => {
    for (const key of ['a', '0', 'A1', 'my_key.v-2', '9.9.9', 'x--_..']) {
      await store.set('good-keys', key, key);
      expect((await store.get('good-keys', key))?.value).toBe(key);
    }
  });

  test('a namespace is required', async () => {
    const error = await rejectionOf(store.set('', 'k', 'v'));
    expect(error).toBeInstanceOf(KvError);
    expect(error.message).toContain('a namespace is required');
    await expect(store.list('')).rejects.toBeInstanceOf(KvError);
  });

  test('namespaces are isolated', async () => {
    await store.set('team.a', 'shared', 'from a');
    await store.set('team.b', 'shared', 'from b');
    await store.set('team', 'shared', 'from parent');
    expect((await store.get('team.a', 'shared'))?.value).toBe('from a');
    expect((await store.get('team.b', 'shared'))?.value).toBe('from b');
    expect(await store.delete('team.a', 'shared')).toBe(true);
    expect(await store.get('team.a', 'shared')).toBeUndefined();
    expect((await store.get('team.b', 'shared'))?.value).toBe('from b');
    expect((await store.get('team', 'shared'))?.value).toBe('from parent');
    await store.set('team.b', 'only-b', 1, { overwrite: false });
    await expect(store.set('team', 'only-b', 1, { overwrite: false })).resolves.toMatchObject({ namespace: 'team' });
    expect((await store.list('team.b')).map((e) => e.key)).toEqual(['only-b', 'shared']);
    const rows = await db.select().from(kv).where(and(eq(kv.namespace, 'team.a'), eq(kv.key, 'shared')));
    expect(rows).toEqual([]);
  });
});
