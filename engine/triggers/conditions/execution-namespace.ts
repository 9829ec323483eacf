import type { ConditionType } from '../types.ts';

/** io.kestra.plugin.core.condition.ExecutionNamespace: true for executions whose namespace matches. */
export const executionNamespace: ConditionType = {
  type: 'io.kestra.plugin.core.condition.ExecutionNamespace',
  aliases: ['io.kestra.plugin.core.condition.ExecutionNamespaceCondition', 'io.kestra.core.models.conditions.types.ExecutionNamespaceCondition'],
  title: 'Allow executions of a namespace',
  properties: {
    namespace: { type: 'string' },
    comparison: { enum: ['EQUALS', 'PREFIX', 'SUFFIX'] },
    /** Shortcut for `comparison: PREFIX`, used only when `comparison` is not set. */
    prefix: { type: 'boolean' },
  },
  required: ['namespace'],
};
