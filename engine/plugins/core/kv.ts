import { Empty, Enum, Type } from '../../contract/index.ts';
import { KvKeyMissingError } from '../../kv/errors.ts';
import { TaskFailure, defineTask } from '../types.ts';

const KV_TYPES = ['STRING', 'NUMBER', 'BOOLEAN', 'DATETIME', 'DATE', 'DURATION', 'JSON'] as const;
const namespace = () => Type.Optional(Type.String({ description: "The namespace of the entry; the flow's own by default." }));
const errorOnMissing = () => Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: 'Fail when the key does not exist (default false).' }));

/** io.kestra.plugin.core.kv.Set: stores a value in the namespace's KV store. */
export const kvSet = defineTask({
  type: 'io.kestra.plugin.core.kv.Set',
  kind: 'runnable',
  title: 'Set a KV entry',
  description: "Stores `value` under `key` in a namespace's key-value store, optionally typed (`kvType`) and expiring after `ttl`. With `overwrite: false` an existing key fails the task instead of being replaced. Read it back with the Get task or the `kv()` function.",
  properties: Type.Object({
    key: Type.String({ description: 'The key.' }),
    value: Type.Unknown({ description: 'The value to store.' }),
    namespace: namespace(),
    overwrite: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: 'Replace an existing value (default true).' })),
    ttl: Type.Optional(Type.String({ description: 'ISO-8601 time to live, e.g. P1D.' })),
    kvType: Type.Optional(Enum(KV_TYPES, { description: 'The type the value is stored as.' })),
  }),
  outputs: Empty(),
  examples: [{ title: 'Remember a date for a day', code: 'id: remember\ntype: io.kestra.plugin.core.kv.Set\nkey: last_run\nvalue: "{{ execution.startDate }}"\nkvType: DATETIME\nttl: P1D' }],
  async run(ctx) {
    const { key, value, kvType, ttl } = ctx.props;
    const namespace = ctx.props.namespace ?? ctx.flow.namespace;
    const overwrite = ctx.props.overwrite === undefined ? true : String(ctx.props.overwrite) !== 'false';
    await ctx.kv.set(namespace, key, value, { type: kvType, ttl, overwrite });
    ctx.logger.debug(`KV '${key}' set in namespace '${namespace}'`);
  },
});

/** io.kestra.plugin.core.kv.Get: reads a KV entry into `outputs.<id>.value`. */
export const kvGet = defineTask({
  type: 'io.kestra.plugin.core.kv.Get',
  kind: 'runnable',
  title: 'Get a KV entry',
  description: "Reads the value stored under `key` in a namespace's key-value store into `outputs.<id>.value` (null when the key does not exist, unless `errorOnMissing`).",
  properties: Type.Object({ key: Type.String({ description: 'The key.' }), namespace: namespace(), errorOnMissing: errorOnMissing() }),
  outputs: Type.Object({ value: Type.Unknown({ description: 'The stored value, or null.' }) }),
  examples: [{ title: 'Read a value', code: 'id: read\ntype: io.kestra.plugin.core.kv.Get\nkey: last_run\nerrorOnMissing: true' }],
  async run(ctx) {
    const namespace = ctx.props.namespace ?? ctx.flow.namespace;
    const entry = await ctx.kv.get(namespace, ctx.props.key);
    if (!entry && String(ctx.props.errorOnMissing) === 'true') {
      throw new TaskFailure(new KvKeyMissingError(namespace, ctx.props.key).message);
    }
    return { outputs: { value: entry?.value ?? null } };
  },
});

/** io.kestra.plugin.core.kv.Delete: removes a KV entry; `outputs.<id>.deleted` tells whether it existed. */
export const kvDelete = defineTask({
  type: 'io.kestra.plugin.core.kv.Delete',
  kind: 'runnable',
  title: 'Delete a KV entry',
  description: "Removes `key` from a namespace's key-value store; `outputs.<id>.deleted` says whether it existed.",
  properties: Type.Object({ key: Type.String({ description: 'The key.' }), namespace: namespace(), errorOnMissing: errorOnMissing() }),
  outputs: Type.Object({ deleted: Type.Boolean({ description: 'Whether the key existed.' }) }),
  examples: [{ title: 'Forget a value', code: 'id: forget\ntype: io.kestra.plugin.core.kv.Delete\nkey: last_run' }],
  async run(ctx) {
    const namespace = ctx.props.namespace ?? ctx.flow.namespace;
    const deleted = await ctx.kv.delete(namespace, ctx.props.key);
    if (!deleted && String(ctx.props.errorOnMissing) === 'true') {
      throw new TaskFailure(new KvKeyMissingError(namespace, ctx.props.key).message);
    }
    return { outputs: { deleted } };
  },
});
