import { Enum, Type } from '../../contract/index.ts';
import { defineCondition } from '../types.ts';

/** io.kestra.plugin.core.condition.ExecutionNamespace: true for executions whose namespace matches. */
export const executionNamespace = defineCondition({
  type: 'io.kestra.plugin.core.condition.ExecutionNamespace',
  aliases: ['io.kestra.plugin.core.condition.ExecutionNamespaceCondition', 'io.kestra.core.models.conditions.types.ExecutionNamespaceCondition'],
  title: 'Allow executions of a namespace',
  description: 'In a Flow trigger: holds for executions whose namespace equals `namespace`, or starts or ends with it (`comparison`).',
  properties: Type.Object({
    namespace: Type.String({ description: 'The namespace to compare with.' }),
    comparison: Type.Optional(Enum(['EQUALS', 'PREFIX', 'SUFFIX'], { description: 'How to compare (EQUALS by default).' })),
    /** Shortcut for `comparison: PREFIX`, used only when `comparison` is not set. */
    prefix: Type.Optional(Type.Boolean({ description: 'Shortcut for comparison: PREFIX.' })),
  }),
  outputs: Type.Object({}),
  examples: [{ title: 'Any flow under company', code: 'type: io.kestra.plugin.core.condition.ExecutionNamespace\nnamespace: company\ncomparison: PREFIX' }],
});
