import { isFailure } from '../../state.ts';
import { Type } from '../../contract/index.ts';
import { TaskFailure, defineTask } from '../types.ts';

/** io.kestra.plugin.core.flow.Subflow: starts another flow; with `wait`, takes its state and outputs. */
export const subflow = defineTask({
  type: 'io.kestra.plugin.core.flow.Subflow',
  aliases: ['io.kestra.core.tasks.flows.Subflow', 'io.kestra.core.tasks.flows.Flow', 'io.kestra.plugin.core.flow.Flow'],
  kind: 'runnable',
  title: 'Run another flow',
  description: "Starts an execution of another flow (`namespace`, `flowId`, optionally a `revision`) with `inputs` and `labels`. With `wait` (the default) it waits for that execution's end, takes its state (a failure fails this task unless `transmitFailed: false`) and exposes the child flow's outputs.",
  properties: Type.Object({
    namespace: Type.String({ description: 'The namespace of the flow to run.' }),
    flowId: Type.String({ description: 'The id of the flow to run.' }),
    revision: Type.Optional(Type.Union([Type.Integer(), Type.String()], { description: 'A revision; the latest by default.' })),
    inputs: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The child execution's inputs." })),
    labels: Type.Optional(Type.Union([
      Type.Record(Type.String(), Type.String()),
      Type.Array(Type.Object({ key: Type.String(), value: Type.Unknown() })),
    ], { description: "Labels of the child execution." })),
    wait: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: 'Wait for its end (default true).' })),
    transmitFailed: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: 'Fail when it fails (default true; with wait only).' })),
    inheritLabels: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: "Pass this execution's labels on (default false)." })),
    scheduleDate: Type.Optional(Type.String({ description: 'Start it at this date instead of now.' })),
    outputs: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { deprecated: true, description: "Deprecated since Kestra 0.15: declare the child flow's `outputs` instead." })),
  }),
  outputs: Type.Object({
    executionId: Type.String({ description: "The child execution's id." }),
    state: Type.Optional(Type.String({ description: 'Its final state (with wait).' })),
    outputs: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The child flow's outputs (with wait)." })),
  }),
  examples: [{ title: 'Run a child flow and wait', code: 'id: child\ntype: io.kestra.plugin.core.flow.Subflow\nnamespace: company.team\nflowId: load\ninputs:\n  day: "{{ trigger.date ?? execution.startDate }}"\nwait: true' }],
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
});

function flag(value: boolean | string | undefined, fallback: boolean): boolean {
  return value === undefined ? fallback : String(value) === 'true';
}
