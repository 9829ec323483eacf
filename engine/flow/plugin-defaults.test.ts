import { describe, expect, it } from 'vitest';
import { applyPluginDefaults } from './index.ts';
import type { PluginDefault, TaskDef } from './types.ts';

const LOG = 'io.kestra.plugin.core.log.Log';
const task = (extra: Record<string, unknown> = {}): TaskDef => ({ id: 't', type: LOG, ...extra });

describe('applyPluginDefaults', () => {
  it('leaves the task alone without defaults', () => {
    const t = task({ message: 'hi' });
    expect(applyPluginDefaults(t, undefined)).toBe(t);
    expect(applyPluginDefaults(t, [])).toBe(t);
  });

  it('fills missing properties from an entry of the same type', () => {
    expect(applyPluginDefaults(task(), [{ type: LOG, values: { message: 'default', level: 'WARN' } }])).toEqual(task({ message: 'default', level: 'WARN' }));
  });

  it('never overrides a property the task sets, unless forced', () => {
    const t = task({ level: 'DEBUG' });
    expect(applyPluginDefaults(t, [{ type: LOG, values: { level: 'WARN' } }]).level).toBe('DEBUG');
    expect(applyPluginDefaults(t, [{ type: LOG, forced: true, values: { level: 'WARN' } }]).level).toBe('WARN');
  });

  it('matches a dotted prefix, not a partial word', () => {
    expect(applyPluginDefaults(task(), [{ type: 'io.kestra.plugin.core', values: { message: 'prefix' } }]).message).toBe('prefix');
    expect(applyPluginDefaults(task(), [{ type: 'io.kestra.plugin.core.lo', values: { message: 'partial' } }]).message).toBeUndefined();
    expect(applyPluginDefaults(task(), [{ type: 'io.kestra.plugin.core.debug', values: { message: 'other' } }]).message).toBeUndefined();
    const query = { id: 'q', type: 'io.kestra.plugin.jdbc.postgresql.Query' };
    expect(applyPluginDefaults(query, [{ type: 'io.kestra.plugin.jdbc.postgresql', values: { url: 'jdbc:postgresql://db/app' } }])).toEqual({
      ...query,
      url: 'jdbc:postgresql://db/app',
    });
  });

  it('applies an entry written for an alias of the type, and to a task written with an alias', () => {
    expect(applyPluginDefaults(task(), [{ type: 'io.kestra.core.tasks.log.Log', values: { message: 'alias entry' } }]).message).toBe('alias entry');
    const legacy = { id: 'l', type: 'io.kestra.core.tasks.log.Log' };
    expect(applyPluginDefaults(legacy, [{ type: LOG, values: { message: 'canonical entry' } }])).toMatchObject({ message: 'canonical entry' });
  });

  it('lets the more specific entry win, whatever the order', () => {
    const defaults: PluginDefault[] = [
      { type: 'io.kestra', values: { level: 'TRACE', message: 'io.kestra' } },
      { type: LOG, values: { level: 'ERROR' } },
      { type: 'io.kestra.plugin.core', values: { level: 'INFO', message: 'core' } },
    ];
    expect(applyPluginDefaults(task(), defaults)).toMatchObject({ level: 'ERROR', message: 'core' });
    expect(applyPluginDefaults(task(), [...defaults].reverse())).toMatchObject({ level: 'ERROR', message: 'core' });
  });

  it('lets the more specific forced entry win over a forced prefix, and the first of equals', () => {
    const defaults: PluginDefault[] = [
      { type: LOG, forced: true, values: { level: 'ERROR' } },
      { type: 'io.kestra.plugin', forced: true, values: { level: 'TRACE' } },
    ];
    expect(applyPluginDefaults(task({ level: 'INFO' }), defaults).level).toBe('ERROR');
    expect(applyPluginDefaults(task({ level: 'INFO' }), [...defaults].reverse()).level).toBe('ERROR');
    const equals: PluginDefault[] = [
      { type: LOG, values: { message: 'first' } },
      { type: LOG, values: { message: 'second' } },
    ];
    expect(applyPluginDefaults(task(), equals).message).toBe('first');
  });

  it('merges maps deeply and concatenates lists, the task winning on conflicts', () => {
    const t = { id: 's', type: 'io.kestra.plugin.scripts.shell.Commands', env: { A: 'task', B: 'task' }, beforeCommands: ['echo task'] };
    const merged = applyPluginDefaults(t, [
      { type: 'io.kestra.plugin.scripts', values: { env: { B: 'default', C: 'default' }, beforeCommands: ['echo default', 'echo task'] } },
    ]);
    expect(merged.env).toEqual({ A: 'task', B: 'task', C: 'default' });
    expect(merged.beforeCommands).toEqual(['echo default', 'echo task']);
    const forced = applyPluginDefaults(t, [{ type: 'io.kestra.plugin.scripts', forced: true, values: { env: { B: 'forced' } } }]);
    expect(forced.env).toEqual({ A: 'task', B: 'forced' });
  });

  it('never changes id or type', () => {
    expect(applyPluginDefaults(task(), [{ type: LOG, forced: true, values: { id: 'other', type: 'x.Y', message: 'm' } }])).toEqual(task({ message: 'm' }));
  });

  it('reaches nested objects with a type: task runners and child tasks', () => {
    const t = {
      id: 'p',
      type: 'io.kestra.plugin.core.flow.Parallel',
      tasks: [{ id: 'c', type: LOG }],
      taskRunner: { type: 'io.kestra.plugin.scripts.runner.docker.Docker' },
    };
    const out = applyPluginDefaults(t, [
      { type: LOG, values: { message: 'child' } },
      { type: 'io.kestra.plugin.scripts.runner.docker.Docker', values: { pullPolicy: 'IF_NOT_PRESENT' } },
    ]);
    expect(out.tasks[0]).toEqual({ id: 'c', type: LOG, message: 'child' });
    expect(out.taskRunner).toEqual({ type: 'io.kestra.plugin.scripts.runner.docker.Docker', pullPolicy: 'IF_NOT_PRESENT' });
  });

  it('does not modify its input and is idempotent', () => {
    const t = task({ env: { A: '1' }, list: ['x'] });
    const snapshot = structuredClone(t);
    const defaults: PluginDefault[] = [
      { type: LOG, values: { env: { B: '2' }, list: ['y'], message: 'm' } },
      { type: LOG, forced: true, values: { list: ['z'] } },
    ];
    const once = applyPluginDefaults(t, defaults);
    expect(t).toEqual(snapshot);
    expect(applyPluginDefaults(once, defaults)).toEqual(once);
    expect(once.list).toEqual(['y', 'x', 'z']);
  });

  it('ignores malformed entries', () => {
    const defaults = [{ type: 3, values: { message: 'x' } }, { type: LOG, values: null }] as unknown as PluginDefault[];
    expect(applyPluginDefaults(task(), defaults)).toEqual(task());
  });
});
