import { beforeAll, expect, it } from 'vitest';
import type { Engine } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { fixtureEngine, runFixture, runOf } from '../support/fixtures.ts';

/**
 * The executor brings rendered properties to their schema's types in one place (issue #13): a
 * `fetchOne: "{{ inputs.one }}"` that renders to "false" is false for the plugin, not a non-empty
 * (so truthy) text.
 */
describeEachDatabase('rendered properties coerced to their schema types', (open) => {
  let engine: Engine;
  beforeAll(async () => {
    const { db } = await open();
    engine = await fixtureEngine(db);
  });

  it('a boolean rendered to "false" is false', async () => {
    const { execution } = await runFixture(engine, 'props-coercion', { one: false });
    expect(execution.state.current).toBe('SUCCESS');
    expect(runOf(execution, 'query').outputs ?? {}).toEqual({});
  });

  it('a boolean rendered to "true" is true', async () => {
    const { execution } = await runFixture(engine, 'props-coercion', { one: true });
    expect(runOf(execution, 'query').outputs).toMatchObject({ row: { answer: 42 }, size: 1 });
  });
});
