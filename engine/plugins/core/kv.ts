import { KvKeyMissingError } from '../../kv/errors.ts';
import type { KvType } from '../../kv/types.ts';
import { TaskFailure, type TaskPlugin } from '../types.ts';

const KV_TYPES = ['STRING', 'NUMBER', 'BOOLEAN', 'DATETIME', 'DATE', 'DURATION', 'JSON'];
const namespaceProp = { type: 'string' };

/** io.kestra.plugin.core.kv.Set: stores a value in the namespace's KV store. */
export const kvSet: TaskPlugin<{ key: string; value: unknown; namespace?: string; overwrite?: boolean | string; ttl?: string; kvType?: KvType; }> = {
  type: 'io.kestra.plugin.core.kv.Set',
  kind: 'runnable',
  title: 'Set a KV entry',
  properties: {
    key: { type: 'string' },
    value: {},
    namespace: namespaceProp,
    overwrite: { type: ['boolean', 'string'] },
    ttl: { type: 'string' },
    kvType: { enum: KV_TYPES },
  },
  required: ['key', 'value'],
  async run(ctx) {
    const { key, value, kvType, ttl } = ctx.props;
    const namespace = ctx.props.namespace ?? ctx.flow.namespace;
    const overwrite = ctx.props.overwrite === undefined ? true : String(ctx.props.overwrite) !== 'false';
    await ctx.kv.set(namespace, key, value, { type: kvType, ttl, overwrite });
    ctx.logger.debug(`KV '${key}' set in namespace '${namespace}'`);
  },
};

/** io.kestra.plugin.core.kv.Get: reads a KV entry into `outputs.<id>.value`. */
export const kvGet: TaskPlugin<{ key: string; namespace?: string; errorOnMissing?: boolean | string }> = {
  type: 'io.kestra.plugin.core.kv.Get',
  kind: 'runnable',
  title: 'Get a KV entry',
  properties: { key: { type: 'string' }, namespace: namespaceProp, errorOnMissing: { type: ['boolean', 'string'] } },
  required: ['key'],
  async run(ctx) {
    const namespace = ctx.props.namespace ?? ctx.flow.namespace;
    const entry = await ctx.kv.get(namespace, ctx.props.key);
    if (!entry && String(ctx.props.errorOnMissing) === 'true') {
      throw new TaskFailure(new KvKeyMissingError(namespace, ctx.props.key).message);
    }
    return { outputs: { value: entry?.value ?? null } };
  },
};

/** io.kestra.plugin.core.kv.Delete: removes a KV entry; `outputs.<id>.deleted` tells whether it existed. */
export const kvDelete: TaskPlugin<{ key: string; namespace?: string; errorOnMissing?: boolean | string }> = {
  type: 'io.kestra.plugin.core.kv.Delete',
  kind: 'runnable',
  title: 'Delete a KV entry',
  properties: { key: { type: 'string' }, namespace: namespaceProp, errorOnMissing: { type: ['boolean', 'string'] } },
  required: ['key'],
  async run(ctx) {
    const namespace = ctx.props.namespace ?? ctx.flow.namespace;
    const deleted = await ctx.kv.delete(namespace, ctx.props.key);
    if (!deleted && String(ctx.props.errorOnMissing) === 'true') {
      throw new TaskFailure(new KvKeyMissingError(namespace, ctx.props.key).message);
    }
    return { outputs: { deleted } };
  },
};
