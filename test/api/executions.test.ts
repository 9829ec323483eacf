import { beforeAll, describe, expect, it } from 'vitest';
import { newState, type Execution, type TaskRun } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { eventually, jsonBody, openApiHarness, readEvents, type ApiHarness } from './harness.ts';

const NS = 'api.tests';

const INPUTS_FLOW = `id: inputs
namespace: ${NS}
inputs:
  - id: name
    type: STRING
  - id: count
    type: INT
  - id: ratio
    type: FLOAT
    defaults: 0.5
tasks:
  - id: hello
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.name }} x{{ inputs.count + 1 }} r{{ inputs.ratio }}"
`;

const UPLOAD_FLOW = `id: upload
namespace: ${NS}
inputs:
  - id: note
    type: STRING
  - id: doc
    type: FILE
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.note }}: {{ read(inputs.doc) }}"
`;

const PRODUCE_FLOW = `id: produce
namespace: ${NS}
tasks:
  - id: write
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles:
      - report.txt
    commands:
      - printf 'report of {{ execution.id }}' > report.txt
`;

const SLEEPER_FLOW = `id: sleeper
namespace: ${NS}
tasks:
  - id: long
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo started
      - sleep 30
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: never
`;

/** Fails until the KV key `flaky_fixed` is true; counts how often `count` and `after` run. */
const FLAKY_FLOW = `id: flaky
namespace: ${NS}
tasks:
  - id: count
    type: io.kestra.plugin.core.kv.Set
    key: flaky_count_runs
    kvType: NUMBER
    value: "{{ (kv('flaky_count_runs', errorOnMissing=false) ?? 0) + 1 }}"
  - id: group
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: steady
        type: io.kestra.plugin.core.debug.Return
        format: steady
      - id: check
        type: io.kestra.plugin.core.execution.Fail
        condition: "{{ kv('flaky_fixed', errorOnMissing=false) != true }}"
        errorMessage: not fixed yet
    errors:
      - id: local_handler
        type: io.kestra.plugin.core.debug.Return
        format: handled locally
  - id: after
    type: io.kestra.plugin.core.kv.Set
    key: flaky_after_runs
    kvType: NUMBER
    value: "{{ (kv('flaky_after_runs', errorOnMissing=false) ?? 0) + 1 }}"
errors:
  - id: handler
    type: io.kestra.plugin.core.log.Log
    message: handling the failure
`;

/** Counts how often a and b run; c shows a's output and b's count. */
const CHAIN_FLOW = `id: chain
namespace: ${NS}
tasks:
  - id: a
    type: io.kestra.plugin.core.kv.Set
    key: chain_a
    kvType: NUMBER
    value: "{{ (kv('chain_a', errorOnMissing=false) ?? 0) + 1 }}"
  - id: a_out
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.id }}"
  - id: b
    type: io.kestra.plugin.core.kv.Set
    key: chain_b
    kvType: NUMBER
    value: "{{ (kv('chain_b', errorOnMissing=false) ?? 0) + 1 }}"
  - id: c
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.a_out.value }}/{{ kv('chain_b') }}"
`;

/** ForEach whose second iteration fails until `loop_fixed` is set; each iteration counts its runs. */
const LOOP_FLOW = `id: loop
namespace: ${NS}
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["one", "two", "three"]
    tasks:
      - id: tally
        type: io.kestra.plugin.core.kv.Set
        key: "loop_{{ taskrun.value }}"
        kvType: NUMBER
        value: "{{ (kv('loop_' ~ taskrun.value, errorOnMissing=false) ?? 0) + 1 }}"
      - id: gate
        type: io.kestra.plugin.core.execution.Fail
        condition: "{{ taskrun.value == 'two' and kv('loop_fixed', errorOnMissing=false) != true }}"
`;

const STEPS_FLOW = `id: steps
namespace: ${NS}
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: one
  - id: pause
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.3S
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: two
`;

const EPHEMERAL_FLOW = `id: ephemeral
namespace: ${NS}
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
`;

const runOf = (execution: Execution, taskId: string, value?: string): TaskRun => {
  const runs = execution.taskRunList.filter((t) => t.taskId === taskId && (value === undefined || t.value === value));
  if (runs.length !== 1) throw new Error(`expected one task run of ${taskId}${value ? `[${value}]` : ''}, found ${runs.length}`);
  return runs[0];
};

describeEachDatabase('executions API', (open) => {
  let h: ApiHarness;
  const kvValue = async (key: string) => {
    const res = await h.api(`/api/v1/namespaces/${NS}/kv/${key}`);
    return res.status === 404 ? undefined : ((await res.json()) as { value: unknown }).value;
  };
  const execute = async (flowId: string, init: RequestInit = { method: 'POST' }, query = '') => {
    const res = await h.api(`/api/v1/executions/${NS}/${flowId}${query}`, init);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Execution;
  };

  beforeAll(async () => {
    h = await openApiHarness(open);
    await h.publish(INPUTS_FLOW, UPLOAD_FLOW, PRODUCE_FLOW, SLEEPER_FLOW, FLAKY_FLOW, CHAIN_FLOW, LOOP_FLOW, STEPS_FLOW, EPHEMERAL_FLOW);
  });

  describe('start', () => {
    it('JSON inputs with wait=true: typed inputs, outputs, flow revision and commit', async () => {
      const execution = await execute('inputs', jsonBody({ name: 'Ada', count: '41' }), '?wait=true&labels=team:data&labels=env:test');
      expect(execution.state.current).toBe('SUCCESS');
      expect(execution.inputs).toEqual({ name: 'Ada', count: 41, ratio: 0.5 });
      expect(runOf(execution, 'hello').outputs).toEqual({ value: 'Ada x42 r0.5' });
      expect(execution.labels).toEqual([{ key: 'team', value: 'data' }, { key: 'env', value: 'test' }]);
      expect(execution.flowRevision).toBe(1);
      expect(execution.commitSha).toMatch(/^[0-9a-f]{40}$/);
      // Stored as returned.
      const stored = (await (await h.api(`/api/v1/executions/${execution.id}`)).json()) as Execution;
      expect(stored).toEqual(execution);
    });

    it('without wait answers at once with the created execution, which then runs', async () => {
      const created = await execute('inputs', jsonBody({ name: 'Bo', count: 1 }));
      expect(['CREATED', 'RUNNING']).toContain(created.state.current);
      const done = await h.waitForExecution(created.id);
      expect(done.state.current).toBe('SUCCESS');
    });

    it('multipart inputs with a FILE upload: the file is stored under the execution and readable by its tasks', async () => {
      const form = new FormData();
      form.append('note', 'uploaded');
      form.append('doc', new File(['file body ✓'], 'notes.txt', { type: 'text/plain' }));
      const execution = await execute('upload', { method: 'POST', body: form }, '?wait=true');
      expect(execution.state.current).toBe('SUCCESS');
      expect(runOf(execution, 'read').outputs).toEqual({ value: 'uploaded: file body ✓' });
      const uri = execution.inputs.doc as string;
      expect(uri).toMatch(new RegExp(`^kestra:///api/tests/upload/executions/${execution.id}/inputs/doc/notes\\.txt$`));
      const file = await h.api(`/api/v1/executions/${execution.id}/file?path=${encodeURIComponent(uri)}`);
      expect(file.status).toBe(200);
      expect(await file.text()).toBe('file body ✓');
    });

    it('invalid inputs are a 422 naming each one, and nothing is stored', async () => {
      const before = (await (await h.api(`/api/v1/executions/search?namespace=${NS}&flowId=inputs&size=1000`)).json()).total;
      const res = await h.api(`/api/v1/executions/${NS}/inputs`, jsonBody({ count: 'many', ratio: 'half' }));
      expect(res.status).toBe(422);
      const body = await res.json();
      expect(body.message).toBe(`invalid inputs for ${NS}.inputs`);
      expect(body.details.map((p: { inputId: string }) => p.inputId).sort()).toEqual(['count', 'name', 'ratio']);
      for (const problem of body.details) expect(problem.message).toContain(`'${problem.inputId}'`);
      expect((await (await h.api(`/api/v1/executions/search?namespace=${NS}&flowId=inputs&size=1000`)).json()).total).toBe(before);
    });

    it('an unknown flow or execution is a 404 {message, details}', async () => {
      const flow = await h.api(`/api/v1/executions/${NS}/nope`, { method: 'POST' });
      expect(flow.status).toBe(404);
      expect(await flow.json()).toEqual({ message: `flow ${NS}.nope not found`, details: null });
      const execution = await h.api('/api/v1/executions/doesNotExist');
      expect(execution.status).toBe(404);
      expect(await execution.json()).toEqual({ message: 'execution doesNotExist not found', details: null });
    });
  });

  describe('kill', () => {
    it('kills a running shell task at once: 202, then KILLED; again 409; unknown 404', async () => {
      const created = await execute('sleeper');
      await h.waitForExecution(created.id, (e) => e.taskRunList.some((t) => t.taskId === 'long' && t.state.current === 'RUNNING'));
      // A running execution cannot be restarted or replayed.
      expect((await h.api(`/api/v1/executions/${created.id}/restart`, { method: 'POST' })).status).toBe(409);
      expect((await h.api(`/api/v1/executions/${created.id}/replay`, { method: 'POST' })).status).toBe(409);
      const started = Date.now();
      const res = await h.api(`/api/v1/executions/${created.id}/kill`, { method: 'DELETE' });
      expect(res.status).toBe(202);
      expect((await res.json()).id).toBe(created.id);
      const killed = await h.waitForExecution(created.id);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(killed.state.current).toBe('KILLED');
      expect(killed.state.histories.map((s) => s.state)).toEqual(['CREATED', 'RUNNING', 'KILLING', 'KILLED']);
      expect(runOf(killed, 'long').state.current).toBe('KILLED');
      expect(killed.taskRunList.some((t) => t.taskId === 'never')).toBe(false);

      const again = await h.api(`/api/v1/executions/${created.id}/kill`, { method: 'DELETE' });
      expect(again.status).toBe(409);
      const body = await again.json();
      expect(body.message).toBe(`execution ${created.id} is KILLED: it has already terminated, there is nothing to kill`);
      expect(body.details).toEqual({ state: 'KILLED' });

      const unknown = await h.api('/api/v1/executions/unknown123/kill', { method: 'DELETE' });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ message: 'execution unknown123 not found', details: null });
    });

    it('an execution left RUNNING by a stopped server is marked KILLED with its unfinished task runs', async () => {
      const orphan = await execute('steps', { method: 'POST' }, '?wait=true');
      // As a crash would leave it: running in the database, run by no process.
      const stored = (await h.engine.resources.repository.findExecution(orphan.id))!;
      stored.state = newState('RUNNING');
      stored.taskRunList[2].state = newState('RUNNING');
      await h.engine.resources.repository.replaceExecution(stored);

      const res = await h.api(`/api/v1/executions/${orphan.id}/kill`, { method: 'DELETE' });
      expect(res.status).toBe(202);
      const after = (await (await h.api(`/api/v1/executions/${orphan.id}`)).json()) as Execution;
      expect(after.state.current).toBe('KILLED');
      expect(after.taskRunList.map((t) => t.state.current)).toEqual(['SUCCESS', 'SUCCESS', 'KILLED']);
    });
  });

  describe('restart', () => {
    it('re-runs only the failed task (and its flowable parent) under the same id; error branches are dropped', async () => {
      const failed = await execute('flaky', { method: 'POST' }, '?wait=true');
      expect(failed.state.current).toBe('FAILED');
      expect(failed.taskRunList.map((t) => [t.taskId, t.state.current])).toEqual([
        ['count', 'SUCCESS'],
        ['group', 'FAILED'],
        ['steady', 'SUCCESS'],
        ['check', 'FAILED'],
        ['local_handler', 'SUCCESS'],
        ['handler', 'SUCCESS'],
      ]);
      expect(await kvValue('flaky_count_runs')).toBe(1);
      expect(await kvValue('flaky_after_runs')).toBeUndefined();

      const fix = await h.api(`/api/v1/namespaces/${NS}/kv/flaky_fixed`, jsonBody(true, 'PUT'));
      expect(fix.status).toBe(200);
      const res = await h.api(`/api/v1/executions/${failed.id}/restart?wait=true`, { method: 'POST' });
      expect(res.status).toBe(200);
      const restarted = (await res.json()) as Execution;

      expect(restarted.id).toBe(failed.id);
      expect(restarted.attemptNumber).toBe(2);
      expect(restarted.state.current).toBe('SUCCESS');
      expect(restarted.state.startDate).toBe(failed.state.startDate);
      expect(restarted.state.histories.map((s) => s.state)).toEqual(['CREATED', 'RUNNING', 'FAILED', 'RESTARTED', 'RUNNING', 'SUCCESS']);
      expect(restarted.taskRunList.map((t) => [t.taskId, t.state.current])).toEqual([
        ['count', 'SUCCESS'],
        ['group', 'SUCCESS'],
        ['steady', 'SUCCESS'],
        ['check', 'SUCCESS'],
        ['after', 'SUCCESS'],
      ]);
      // Kept task runs are the same, untouched; the failed ones keep their id and gain an attempt.
      for (const taskId of ['count', 'steady']) expect(runOf(restarted, taskId)).toEqual(runOf(failed, taskId));
      expect(runOf(restarted, 'check').id).toBe(runOf(failed, 'check').id);
      expect(runOf(restarted, 'check').attempts.map((a) => a.state.current)).toEqual(['FAILED', 'SUCCESS']);
      expect(runOf(restarted, 'check').state.histories.map((s) => s.state)).toEqual(['CREATED', 'RUNNING', 'FAILED', 'RESTARTED', 'RUNNING', 'SUCCESS']);
      expect(runOf(restarted, 'group').id).toBe(runOf(failed, 'group').id);
      // The count task did not run again; the one after the failure ran once.
      expect(await kvValue('flaky_count_runs')).toBe(1);
      expect(await kvValue('flaky_after_runs')).toBe(1);
      // Attempt 1 of `check` logged its failure; attempt 2 passed silently.
      const logs = (await (await h.api(`/api/v1/logs/${failed.id}?taskId=check`)).json()) as { attemptNumber: number; message: string }[];
      expect(logs.map((l) => [l.attemptNumber, l.message])).toEqual([[1, 'not fixed yet']]);
      // What the database holds is what was answered.
      expect((await (await h.api(`/api/v1/executions/${failed.id}`)).json()) as Execution).toEqual(restarted);
    });

    it('in a ForEach, only the failed iteration runs again', async () => {
      const failed = await execute('loop', { method: 'POST' }, '?wait=true');
      expect(failed.state.current).toBe('FAILED');
      expect(runOf(failed, 'gate', 'two').state.current).toBe('FAILED');
      // The loop stops launching iterations after a failure.
      expect(failed.taskRunList.some((t) => t.value === 'three')).toBe(false);
      await h.api(`/api/v1/namespaces/${NS}/kv/loop_fixed`, jsonBody(true, 'PUT'));
      const restarted = (await (await h.api(`/api/v1/executions/${failed.id}/restart?wait=true`, { method: 'POST' })).json()) as Execution;
      expect(restarted.state.current).toBe('SUCCESS');
      expect(await kvValue('loop_one')).toBe(1);
      expect(await kvValue('loop_two')).toBe(1);
      expect(await kvValue('loop_three')).toBe(1);
      expect(runOf(restarted, 'gate', 'two').id).toBe(runOf(failed, 'gate', 'two').id);
      expect(runOf(restarted, 'gate', 'one')).toEqual(runOf(failed, 'gate', 'one'));
      expect(restarted.taskRunList.filter((t) => t.taskId === 'tally')).toHaveLength(3);
    });

    it('refuses an unknown execution (404) and one whose flow revision is gone (409)', async () => {
      const unknown = await h.api('/api/v1/executions/nope/restart', { method: 'POST' });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ message: 'execution nope not found', details: null });

      const failed = await execute('ephemeral', { method: 'POST' }, '?wait=true');
      expect(failed.state.current).toBe('FAILED');
      await h.unpublish(NS, 'ephemeral');
      const res = await h.api(`/api/v1/executions/${failed.id}/restart`, { method: 'POST' });
      expect(res.status).toBe(409);
      const body = await res.json();
      expect(body.message).toContain(`revision 1 of flow ${NS}.ephemeral, which execution ${failed.id} ran with, is not available`);
      expect(body.details).toEqual({ namespace: NS, flowId: 'ephemeral', revision: 1 });
      // Untouched.
      expect(((await (await h.api(`/api/v1/executions/${failed.id}`)).json()) as Execution).attemptNumber).toBe(1);
    });
  });

  describe('replay', () => {
    it('from a task run: a new execution copies what came before and runs from there', async () => {
      const original = await execute('chain', { method: 'POST' }, '?wait=true');
      expect(original.state.current).toBe('SUCCESS');
      expect(runOf(original, 'c').outputs).toEqual({ value: `${original.id}/1` });
      const from = runOf(original, 'b');

      const res = await h.api(`/api/v1/executions/${original.id}/replay?taskRunId=${from.id}&wait=true`, { method: 'POST' });
      expect(res.status).toBe(200);
      const replay = (await res.json()) as Execution;
      expect(replay.id).not.toBe(original.id);
      expect(replay.originalId).toBe(original.id);
      expect(replay.state.current).toBe('SUCCESS');
      expect(replay.flowRevision).toBe(original.flowRevision);
      expect(replay.inputs).toEqual(original.inputs);
      expect(replay.labels).toEqual(original.labels);
      expect(replay.taskRunList.map((t) => t.taskId)).toEqual(['a', 'a_out', 'b', 'c']);
      // Before b: copied as they were, under new ids.
      for (const taskId of ['a', 'a_out']) {
        const copy = runOf(replay, taskId);
        const source = runOf(original, taskId);
        expect(copy.id).not.toBe(source.id);
        expect(copy.executionId).toBe(replay.id);
        expect({ ...copy, id: source.id, executionId: source.executionId }).toEqual(source);
      }
      // b and c ran again; c sees a_out's copied output.
      expect(runOf(replay, 'b').attempts.map((a) => a.state.current)).toEqual(['SUCCESS', 'SUCCESS']);
      expect(runOf(replay, 'c').outputs).toEqual({ value: `${original.id}/2` });
      expect(await kvValue('chain_a')).toBe(1);
      expect(await kvValue('chain_b')).toBe(2);
      // The original is unchanged.
      expect((await (await h.api(`/api/v1/executions/${original.id}`)).json()) as Execution).toEqual(original);
    });

    it('without a task run everything runs again', async () => {
      const original = await execute('chain', { method: 'POST' }, '?wait=true');
      const a = (await kvValue('chain_a')) as number;
      const replay = (await (await h.api(`/api/v1/executions/${original.id}/replay?wait=true`, { method: 'POST' })).json()) as Execution;
      expect(replay.originalId).toBe(original.id);
      expect(replay.state.histories[0].state).toBe('CREATED');
      expect(runOf(replay, 'c').outputs).toEqual({ value: `${replay.id}/${(await kvValue('chain_b')) as number}` });
      expect(await kvValue('chain_a')).toBe(a + 1);
      expect(replay.taskRunList.every((t) => !original.taskRunList.some((o) => o.id === t.id))).toBe(true);
    });

    it('refuses an unknown task run (404)', async () => {
      const original = await execute('chain', { method: 'POST' }, '?wait=true');
      const res = await h.api(`/api/v1/executions/${original.id}/replay?taskRunId=nope`, { method: 'POST' });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ message: `task run nope not found in execution ${original.id}`, details: null });
    });
  });

  describe('follow', () => {
    it('streams the execution at each change and ends with id: end', async () => {
      const created = await execute('steps');
      const events = await readEvents(await h.api(`/api/v1/executions/${created.id}/follow`));
      expect(events.length).toBeGreaterThan(2);
      const last = events[events.length - 1];
      expect(last.id).toBe('end');
      expect(events.slice(0, -1).every((e) => e.id === 'progress')).toBe(true);
      const executions = events.map((e) => JSON.parse(e.data) as Execution);
      expect(executions.every((e) => e.id === created.id)).toBe(true);
      expect(executions[executions.length - 1].state.current).toBe('SUCCESS');
      expect(executions[executions.length - 1].taskRunList.map((t) => t.taskId)).toEqual(['first', 'pause', 'last']);
      // Progress was seen while it ran: the Sleep task running, and the last task not yet there.
      expect(executions.some((e) => e.taskRunList.some((t) => t.taskId === 'pause' && t.state.current === 'RUNNING'))).toBe(true);
      // Task-run counts only grow along the stream.
      const counts = executions.map((e) => e.taskRunList.length);
      expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    });

    it('a terminated execution gives one end event; an unknown one is a 404', async () => {
      const done = await execute('steps', { method: 'POST' }, '?wait=true');
      const events = await readEvents(await h.api(`/api/v1/executions/${done.id}/follow`));
      expect(events.map((e) => e.id)).toEqual(['end']);
      expect(JSON.parse(events[0].data)).toEqual(done);
      const unknown = await h.api('/api/v1/executions/nope/follow');
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toMatch(/json/);
    });
  });

  describe('files', () => {
    it('downloads an output file as an attachment, and refuses another execution\'s file', async () => {
      const first = await execute('produce', { method: 'POST' }, '?wait=true');
      const second = await execute('produce', { method: 'POST' }, '?wait=true');
      const uriOf = (e: Execution) => (runOf(e, 'write').outputs as { outputFiles: Record<string, string> }).outputFiles['report.txt'];
      const uri = uriOf(first);
      expect(uri).toMatch(new RegExp(`^kestra:///api/tests/produce/executions/${first.id}/tasks/write/`));

      const res = await h.api(`/api/v1/executions/${first.id}/file?path=${encodeURIComponent(uri)}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`report of ${first.id}`);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="[^"]*report\.txt"/);
      expect(Number(res.headers.get('content-length'))).toBe(`report of ${first.id}`.length);

      // The second execution's file, asked through the first: refused before storage is read.
      const other = await h.api(`/api/v1/executions/${first.id}/file?path=${encodeURIComponent(uriOf(second))}`);
      expect(other.status).toBe(403);
      expect(await other.json()).toEqual({ message: `'${uriOf(second)}' is not a file of execution ${first.id}`, details: null });
      // Its own execution serves it.
      expect(await (await h.api(`/api/v1/executions/${second.id}/file?path=${encodeURIComponent(uriOf(second))}`)).text()).toBe(`report of ${second.id}`);

      const prefix = `kestra:///api/tests/produce/executions/${first.id}`;
      const cases: [string, number][] = [
        [`${prefix}/../${second.id}/x`, 400],
        [`${prefix}/%2e%2e/x`, 400],
        ['/etc/passwd', 400],
        ['file:///etc/passwd', 400],
        [`${prefix}/tasks/write/missing.txt`, 404],
        ['kestra:///api/tests/other/executions/x/file.txt', 403],
      ];
      for (const [path, status] of cases) {
        const refused = await h.api(`/api/v1/executions/${first.id}/file?path=${encodeURIComponent(path)}`);
        expect([path, refused.status]).toEqual([path, status]);
        expect(Object.keys(await refused.json()).sort()).toEqual(['details', 'message']);
      }
      expect((await h.api(`/api/v1/executions/${first.id}/file`)).status).toBe(400);
    });

    it('a replay may download the files of the execution it copied', async () => {
      const original = await execute('produce', { method: 'POST' }, '?wait=true');
      const write = runOf(original, 'write');
      // A replay's inputs and copied outputs point into the storage of the execution it replays.
      const replay = (await (await h.api(`/api/v1/executions/${original.id}/replay?wait=true`, { method: 'POST' })).json()) as Execution;
      const uri = (write.outputs as { outputFiles: Record<string, string> }).outputFiles['report.txt'];
      const res = await h.api(`/api/v1/executions/${replay.id}/file?path=${encodeURIComponent(uri)}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`report of ${original.id}`);
      // The other way round is refused: the original did not come from its replay.
      const replayUri = (runOf(replay, 'write').outputs as { outputFiles: Record<string, string> }).outputFiles['report.txt'];
      expect((await h.api(`/api/v1/executions/${original.id}/file?path=${encodeURIComponent(replayUri)}`)).status).toBe(403);
    });
  });

  it('every execution this suite started has ended', async () => {
    await eventually(async () => {
      const { total } = await (await h.api(`/api/v1/executions/search?namespace=${NS}&state=CREATED,RUNNING,RESTARTED,KILLING`)).json();
      return total === 0 ? true : undefined;
    }, 'no execution left running');
  });
});
