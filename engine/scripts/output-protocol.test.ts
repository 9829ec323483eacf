import { describe, expect, it } from 'vitest';
import { parseProtocolLine } from './output-protocol.ts';
import { ScriptLogConsumer } from './log-consumer.ts';
import type { TaskLogger } from '../plugins/types.ts';
import type { LogLevel } from '../logs/types.ts';

describe('parseProtocolLine', () => {
  it('treats anything not exactly ::{…}:: as text', () => {
    for (const line of ['hello', ' ::{"outputs":{}}::', '::{"outputs":{}}:: ', '::[1]::', '::{}:', '{"outputs":{}}']) {
      expect(parseProtocolLine(line)).toEqual({ kind: 'text' });
    }
  });

  it('reads outputs, metrics and logs', () => {
    const line =
      '::{"outputs":{"a":1,"nested":{"b":[1,2]}},"metrics":[{"name":"rows","type":"counter","value":5,"tags":{"t":1}},' +
      '{"name":"took","type":"timer","value":1.5}],"logs":[{"level":"warn","message":"careful"},{"level":"WARNING","message":"py"}]}::';
    expect(parseProtocolLine(line)).toEqual({
      kind: 'message',
      message: {
        outputs: { a: 1, nested: { b: [1, 2] } },
        metrics: [
          { name: 'rows', type: 'counter', value: 5, tags: { t: '1' } },
          { name: 'took', type: 'timer', value: 1.5 },
        ],
        logs: [
          { level: 'WARN', message: 'careful' },
          { level: 'WARN', message: 'py' },
        ],
      },
    });
  });

  it('accepts a line with only some of the parts', () => {
    expect(parseProtocolLine('::{}::')).toEqual({ kind: 'message', message: { outputs: {}, metrics: [], logs: [] } });
    expect(parseProtocolLine('::{"logs":[{"level":"INFO","message":"m"}]}::')).toMatchObject({ kind: 'message' });
  });

  it('reports malformed or ill-typed content as invalid', () => {
    expect(parseProtocolLine('::{"outputs":{"a":}}::').kind).toBe('invalid');
    expect(parseProtocolLine('::{"outputs":[1]}::')).toEqual({ kind: 'invalid', reason: '"outputs" must be an object' });
    expect(parseProtocolLine('::{"metrics":[{"name":"x","type":"gauge","value":1}]}::').kind).toBe('invalid');
    expect(parseProtocolLine('::{"metrics":[{"name":"x","type":"counter","value":"a"}]}::').kind).toBe('invalid');
    expect(parseProtocolLine('::{"logs":[{"level":"LOUD","message":"x"}]}::').kind).toBe('invalid');
    expect(parseProtocolLine('::{"metrics":{"name":"x"}}::').kind).toBe('invalid');
  });
});

describe('ScriptLogConsumer', () => {
  function recorder() {
    const logs: Array<{ level: LogLevel; message: string }> = [];
    const push = (level: LogLevel) => (message: string) => void logs.push({ level, message });
    const logger: TaskLogger = {
      trace: push('TRACE'), debug: push('DEBUG'), info: push('INFO'), warn: push('WARN'), error: push('ERROR'),
      log: (level, message) => void logs.push({ level, message }),
    };
    return { logs, consumer: new ScriptLogConsumer(logger) };
  }

  it('logs stdout as INFO and stderr as ERROR and counts lines per stream', () => {
    const { logs, consumer } = recorder();
    consumer.accept('stdout', 'out');
    consumer.accept('stderr', 'err');
    consumer.accept('stderr', '::{"outputs":{"x":1}}::');
    expect(logs).toEqual([
      { level: 'INFO', message: 'out' },
      { level: 'ERROR', message: 'err' },
    ]);
    expect([consumer.stdoutLines, consumer.stderrLines]).toEqual([1, 2]);
    expect(consumer.vars).toEqual({ x: 1 });
  });

  it('merges outputs key by key, a later line replacing a whole top-level key (Kestra putAll)', () => {
    const { consumer } = recorder();
    consumer.accept('stdout', '::{"outputs":{"a":{"x":1},"b":1}}::');
    consumer.accept('stdout', '::{"outputs":{"a":{"y":2},"c":3}}::');
    expect(consumer.vars).toEqual({ a: { y: 2 }, b: 1, c: 3 });
  });

  it('emits protocol log lines at their level and keeps metrics', () => {
    const { logs, consumer } = recorder();
    consumer.accept('stdout', '::{"logs":[{"level":"DEBUG","message":"d"},{"level":"ERROR","message":"e"}],"metrics":[{"name":"n","type":"counter","value":1}]}::');
    expect(logs).toEqual([
      { level: 'DEBUG', message: 'd' },
      { level: 'ERROR', message: 'e' },
    ]);
    expect(consumer.metrics).toEqual([{ name: 'n', type: 'counter', value: 1 }]);
  });

  it('logs a malformed protocol line as text plus a warning, and applies nothing from it', () => {
    const { logs, consumer } = recorder();
    consumer.accept('stdout', '::{"outputs":{"a":1}::');
    expect(consumer.vars).toEqual({});
    expect(logs[0]).toEqual({ level: 'INFO', message: '::{"outputs":{"a":1}::' });
    expect(logs[1].level).toBe('WARN');
    expect(logs[1].message).toMatch(/^Invalid outputs '/);
  });
});
