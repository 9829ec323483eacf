import { isFailure } from '../../state.ts';
import { TaskFailure, type TaskPlugin } from '../types.ts';

interface SubflowProps {
  namespace: string;
  flowId: string;
  revision?: number | string;
  inputs?: Record<string, unknown>;
  labels?: Record<string, string> | { key: string; value: string }[];
  wait?: boolean | string;
  transmitFailed?: boolean | string;
  inheritLabels?: boolean | string;
  scheduleDate?: string;
}

/** io.kestra.plugin.core.flow.Subflow: starts another flow; with `wait`, takes its state and outputs. */
export const subflow: TaskPlugin<SubflowProps> = {
  type: 'io.kestra.plugin.core.flow.Subflow',
  aliases: ['io.kestra.core.tasks.flows.Subflow', 'io.kestra.core.tasks.flows.Flow', 'io.kestra.plugin.core.flow.Flow'],
  kind: 'runnable',
  title: 'Run another flow',
  properties: {
    namespace: { type: 'string' },
    flowId: { type: 'string' },
    revision: { type: ['integer', 'string'] },
    inputs: { type: 'object' },
    labels: { anyOf: [{ type: 'object' }, { type: 'array' }] },
    wait: { type: ['boolean', 'string'] },
    transmitFailed: { type: ['boolean', 'string'] },
    inheritLabels: { type: ['boolean', 'string'] },
    scheduleDate: { type: 'string' },
    outputs: { type: 'object' },
  },
  required: ['namespace', 'flowId'],
  async run(ctx) {
    const p = ctx.props;
    const wait = flag(p.wait, true);
    const labels: Record<string, string> = {};
    if (flag(p.inheritLabels, false)) {
      for (const [k, v] of Object.entries(ctx.variables.labels as Record<string, string>)) if (!k.startsWith('system.')) labels[k] = v;
    }
    if (Array.isArray(p.labels)) for (const l of p.labels) labels[l.key] = String(l.value);
    else Object.assign(labels, p.labels ?? {});
    const result = await ctx.runSubflow({
      namespace: p.namespace,
      flowId: p.flowId,
      revision: p.revision === undefined ? undefined : Number(p.revision),
      inputs: p.inputs,
      labels,
      wait,
      scheduleDate: p.scheduleDate,
    });
    ctx.logger.info(`Started subflow ${p.namespace}.${p.flowId}: execution ${result.executionId}`);
    const outputs: Record<string, unknown> = { executionId: result.executionId };
    if (!wait) return { outputs };
    outputs.state = result.state;
    outputs.outputs = result.outputs ?? {};
    if (result.state && isFailure(result.state) && flag(p.transmitFailed, true)) {
      throw new TaskFailure(`Subflow execution ${result.executionId} ended ${result.state}`, { outputs });
    }
    return { outputs, state: result.state === 'WARNING' ? 'WARNING' : 'SUCCESS' };
  },
};

function flag(value: boolean | string | undefined, fallback: boolean): boolean {
  return value === undefined ? fallback : String(value) === 'true';
}
