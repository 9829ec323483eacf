import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeEachDatabase } from '../support/databases.ts';
import { openApiHarness, type ApiHarness } from './harness.ts';

/** The plugin catalogue and the flow JSON Schema over the API (issue #13). */
describeEachDatabase('plugins API', (open) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await openApiHarness(open);
  });

  it('lists every plugin of every kind, or of one kind', async () => {
    const all = (await (await h.api('/api/v1/plugins')).json()) as Array<{ kind: string; type: string; description: string; examples: unknown[] }>;
    expect(new Set(all.map((p) => p.kind))).toEqual(new Set(['task', 'trigger', 'condition', 'runner']));
    expect(all.find((p) => p.type === 'io.kestra.plugin.core.log.Log')).toMatchObject({ kind: 'task', group: 'io.kestra.plugin.core.log', title: 'Log a message' });
    const runners = (await (await h.api('/api/v1/plugins?kind=runner')).json()) as Array<{ type: string }>;
    expect(runners.map((p) => p.type).sort()).toEqual(['io.kestra.plugin.core.runner.Process', 'io.kestra.plugin.scripts.runner.docker.Docker']);
    const bad = await h.api('/api/v1/plugins?kind=widget');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain("unknown plugin kind 'widget'");
  });

  it('gives one plugin by its type or an older name, with its properties, outputs and examples', async () => {
    const res = await h.api('/api/v1/plugins/io.kestra.core.tasks.log.Log');
    expect(res.status).toBe(200);
    const log = (await res.json()) as { type: string; properties: { properties: Record<string, unknown> }; commonProperties: Record<string, unknown>; examples: Array<{ flow: string }> };
    expect(log.type).toBe('io.kestra.plugin.core.log.Log');
    expect(Object.keys(log.properties.properties)).toEqual(['message', 'level']);
    expect(Object.keys(log.commonProperties)).toEqual(expect.arrayContaining(['id', 'retry', 'timeout']));
    expect(log.examples[0].flow).toContain('namespace: company.team');
    const missing = await h.api('/api/v1/plugins/io.kestra.plugin.core.log.Logg');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { message: string }).message).toBe("no plugin of type 'io.kestra.plugin.core.log.Logg' (did you mean 'io.kestra.plugin.core.log.Log'?)");
  });

  it('serves the flow JSON Schema, which accepts a fixture flow and refuses a misspelt runner property', async () => {
    const res = await h.api('/api/v1/plugins/schemas/flow');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/schema+json');
    const validate = new Ajv2020({ strict: false, validateFormats: false }).compile((await res.json()) as object);
    const fixtures = join(import.meta.dirname, '..', 'fixtures');
    expect(validate(parse(readFileSync(join(fixtures, 'flows', 'log-return.yaml'), 'utf8')))).toBe(true);
    expect(validate(parse(readFileSync(join(fixtures, 'invalid', 'task-runner-unknown-property.yaml'), 'utf8')))).toBe(false);
  });
});
