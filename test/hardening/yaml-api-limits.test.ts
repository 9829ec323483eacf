/**
 * Issue #12, flows: POST /api/v1/flows/validate holds a flow to the same size limits as the sync, the
 * engine's (BATON_LIMIT_*), so what the API calls valid is what a push would make live.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/index.ts';
import { openApiHarness, type ApiHarness } from '../api/harness.ts';

const flow = (tasks: number) =>
  `id: three\nnamespace: company.team\ntasks:\n${Array.from({ length: tasks }, (_, i) => `  - id: t${i}\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n`).join('')}`;

describe('the validate API within the flow limits', () => {
  let database: Database;
  let harness: ApiHarness;
  beforeAll(async () => {
    harness = await openApiHarness(async () => (database = await openDatabase({ dataDir: 'memory://' })), { engineEnv: { BATON_LIMIT_FLOW_TASKS: '2' } });
  });
  afterAll(async () => {
    await harness?.engine.idle();
    await database?.close();
  });

  const validate = async (source: string) => {
    const res = await harness.api('/api/v1/flows/validate', { method: 'POST', body: source, headers: { 'content-type': 'application/x-yaml' } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { flow: string | null; constraints: string | null }[])[0];
  };

  it('refuses a flow over the engine\'s BATON_LIMIT_FLOW_TASKS, naming it', async () => {
    expect(await validate(flow(2))).toMatchObject({ flow: 'three', constraints: null });
    expect(await validate(flow(3))).toMatchObject({
      flow: null,
      constraints: '<flow>:1:1: error: flow has 3 tasks: exceeds the limit of 2 (raise it with BATON_LIMIT_FLOW_TASKS)',
    });
  });
});
