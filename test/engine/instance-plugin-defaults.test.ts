import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/index.ts';
import { createEngine } from '../../engine/index.ts';
import { validateFlowSource } from '../../engine/flow/index.ts';
import type { PluginDefault } from '../../engine/flow/types.ts';
import { runOf } from '../support/fixtures.ts';

const FLOW = `id: defaults
namespace: baton.tests
pluginDefaults:
  - type: io.kestra.plugin.core.debug.Return
    values:
      format: from the flow
tasks:
  - id: from_defaults
    type: io.kestra.plugin.core.debug.Return
  - id: own_value
    type: io.kestra.plugin.core.debug.Return
    format: from the task
`;

describe('instance-level plugin defaults (Kestra kestra.plugins.defaults)', () => {
  let database: Database;
  let dataDir: string;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://' });
    dataDir = await mkdtemp(join(tmpdir(), 'baton-instance-defaults-'));
  });
  afterAll(async () => {
    await database?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function outputs(pluginDefaults: PluginDefault[]) {
    const engine = createEngine({ db: database.db, dataDir, env: {}, pluginDefaults });
    const { flow, problems } = validateFlowSource(FLOW, 'defaults.yaml');
    if (!flow) throw new Error(problems.map((p) => p.message).join('\n'));
    const execution = await engine.execute({ flow });
    await engine.idle();
    expect(execution.state.current).toBe('SUCCESS');
    return ['from_defaults', 'own_value'].map((id) => runOf(execution, id).outputs?.value);
  }

  it('lose to the flow\'s own defaults and to the task\'s values unless forced', async () => {
    const values = await outputs([
      { type: 'io.kestra.plugin.core.debug.Return', values: { format: 'from the instance' } },
    ]);
    expect(values).toEqual(['from the flow', 'from the task']);
  });

  it('forced ones override the flow and the task', async () => {
    const values = await outputs([{ type: 'io.kestra.plugin.core.debug', forced: true, values: { format: 'forced by the instance' } }]);
    expect(values).toEqual(['forced by the instance', 'forced by the instance']);
  });
});
