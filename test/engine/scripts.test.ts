import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/index.ts';
import type { Engine } from '../../engine/index.ts';
import { DirectoryNamespaceFiles } from '../../engine/namespace-files/index.ts';
import { fixtureEngine, loadFixture, runFixture, runOf, runsOf } from '../support/fixtures.ts';

/** Script tasks, files and HTTP through the whole engine, on the Process runner. */
describe('script and file tasks end to end', () => {
  let database: Database;
  let engine: Engine;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    database = await openDatabase({ url: 'memory://' });
    const files = await mkdtemp(join(tmpdir(), 'baton-nsfiles-'));
    await mkdir(join(files, 'sql'), { recursive: true });
    await mkdir(join(files, 'scripts'), { recursive: true });
    await writeFile(join(files, 'sql', 'query.sql'), 'SELECT 1;\n');
    await writeFile(join(files, 'scripts', 'hello.sh'), 'echo hello from a namespace file\n');
    engine = await fixtureEngine(database.db, {
      env: { BATON_DEFAULT_TASK_RUNNER: 'io.kestra.plugin.core.runner.Process' },
      namespaceFiles: new DirectoryNamespaceFiles({ root: files, namespace: 'baton.tests' }),
    });
    server = createServer((req, res) => {
      if (req.url === '/products') {
        const body = JSON.stringify({ products: [{ brand: 'Apple', price: 1, title: 'x' }, { price: 2 }] });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } else if (req.url === '/echo') {
        let data = '';
        req.on('data', (c) => (data += c));
        req.on('end', () => {
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ got: JSON.parse(data) }));
        });
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.close();
    await database?.close();
  });

  it('shell: outputs protocol, outputFiles into inputFiles, stderr WARNING, exit codes', async () => {
    const { execution, logs } = await runFixture(engine, 'scripts-shell');
    const produce = runOf(execution, 'produce');
    expect(produce.state.current).toBe('SUCCESS');
    expect(produce.outputs).toMatchObject({ exitCode: 0, vars: { rows: 1, name: 'data' } });
    expect((produce.outputs as { outputFiles: Record<string, string> }).outputFiles['data.csv']).toMatch(/^kestra:\/\/\/baton\/tests\/scripts-shell\/executions\//);
    expect(logs.some((l) => l.taskId === 'produce' && l.message === 'a note on stderr')).toBe(true);
    expect(logs.find((l) => l.taskId === 'consume' && l.message.startsWith('rows='))?.message).toMatch(/^rows=1 name=data dir=\//);
    expect(runOf(execution, 'warns').state.current).toBe('WARNING');
    const failing = runOf(execution, 'failing');
    expect(failing.state.current).toBe('WARNING');
    expect(failing.outputs).toMatchObject({ exitCode: 3 });
    expect(logs.some((l) => l.taskId === 'failing' && l.message === 'never')).toBe(false);
    expect(execution.state.current).toBe('WARNING');
    // The tasks' working directories, and the execution's directory holding them, are gone once it ended.
    expect(existsSync(join(engine.resources.workRoot, execution.id))).toBe(false);
  });

  it('python: Script with env, outputs and files; Commands with inputFiles', async () => {
    const { execution, logs } = await runFixture(engine, 'scripts-python');
    expect(execution.state.current).toBe('SUCCESS');
    const transform = runOf(execution, 'transform');
    expect(transform.outputs).toMatchObject({ exitCode: 0, vars: { count: 2, ok: true } });
    const uri = (transform.outputs as { outputFiles: Record<string, string> }).outputFiles['products.json'];
    const stored = JSON.parse((await engine.resources.storage.readBuffer(uri)).toString());
    expect(stored).toEqual([{ brand: 'a', price: 1 }, { brand: 'b', price: 2 }]);
    expect(logs.some((l) => l.taskId === 'transform' && l.message === 'flag is True None')).toBe(true);
    expect(logs.some((l) => l.taskId === 'commands' && l.message === 'sum 3')).toBe(true);
  });

  it('WorkingDirectory: tasks share a directory; outputFiles are stored and readable', async () => {
    const { execution } = await runFixture(engine, 'working-directory');
    expect(execution.state.current).toBe('SUCCESS');
    expect(runOf(execution, 'read_back').outputs?.value).toBe('hello world');
    expect(existsSync(join(engine.resources.workRoot, execution.id))).toBe(false);
  });

  it('namespace files: read() and namespaceFiles.enabled', async () => {
    const { execution, logs } = await runFixture(engine, 'namespace-files');
    expect(execution.state.current).toBe('SUCCESS');
    expect(runOf(execution, 'sql').outputs?.value).toBe('SELECT 1;');
    expect(logs.some((l) => l.taskId === 'script' && l.message === 'hello from a namespace file')).toBe(true);
  });

  it('PurgeCurrentExecutionFiles deletes the execution files', async () => {
    const { execution } = await runFixture(engine, 'purge');
    const uri = (runOf(execution, 'produce').outputs as { outputFiles: Record<string, string> }).outputFiles['out.txt'];
    expect(runOf(execution, 'purge_files').outputs?.uris).toContain(uri);
    expect(await engine.resources.storage.exists(uri)).toBe(false);
  });

  it('a script timeout kills the process promptly', async () => {
    const started = Date.now();
    const { execution } = await runFixture(engine, 'script-timeout');
    expect(execution.state.current).toBe('FAILED');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('kill stops the running script and nothing after it starts', async () => {
    const flow = await loadFixture('killable');
    const run = await engine.create({ flow });
    const done = engine.run(run);
    await new Promise<void>((resolve) => {
      const stop = engine.onLog((l) => {
        if (l.executionId === run.execution.id && l.message === 'started') {
          stop();
          resolve();
        }
      });
    });
    expect(await engine.kill(run.execution.id)).toBe(true);
    const execution = await done;
    expect(execution.state.current).toBe('KILLED');
    expect(execution.state.histories.map((h) => h.state)).toEqual(['CREATED', 'RUNNING', 'KILLING', 'KILLED']);
    expect(runOf(execution, 'long').state.current).toBe('KILLED');
    expect(runsOf(execution, 'never')).toHaveLength(0);
    const stored = await engine.resources.repository.findExecution(execution.id);
    expect(stored?.state.current).toBe('KILLED');
  });

  it('http: Download stores the body, Request returns code and body', async () => {
    const { execution } = await runFixture(engine, 'http-download', { base });
    expect(execution.state.current).toBe('SUCCESS');
    const extract = runOf(execution, 'extract');
    expect(extract.outputs).toMatchObject({ code: 200 });
    expect(Number(runOf(execution, 'size').outputs?.value)).toBe((extract.outputs as { length: number }).length);
    expect(runOf(execution, 'request').outputs).toMatchObject({ code: 201 });
    expect(String((runOf(execution, 'request').outputs as { body: unknown }).body)).toContain('"hello":"http-download"');
  });

  it("the seed's getting-started flow runs unchanged: extract, Python transform, DuckDB query", async () => {
    // The seed's flow as shipped in flows/; only the URL is pointed at a local server (no internet here).
    const source = await readFile(join(import.meta.dirname, '..', '..', 'flows', '01_getting_started_data_pipeline.yaml'), 'utf8');
    const { validateFlowSource } = await import('../../engine/flow/index.ts');
    const { flow, problems } = validateFlowSource(source.replace('https://dummyjson.com/products', `${base}/products`));
    expect(problems).toEqual([]);
    const execution = await engine.execute({ flow: flow! });
    expect(execution.state.current).toBe('SUCCESS');
    const uri = (runOf(execution, 'transform').outputs as { outputFiles: Record<string, string> }).outputFiles['products.json'];
    const products = JSON.parse((await engine.resources.storage.readBuffer(uri)).toString());
    expect(products).toEqual([{ brand: 'Apple', price: 1 }, { brand: 'N/A', price: 2 }]);
    expect(runOf(execution, 'query').state.current).toBe('SUCCESS');
  });

  it('DuckDB: inputFiles under workingDir, several statements, FETCH, FETCH_ONE, STORE, errors', async () => {
    const { execution, logs } = await runFixture(engine, 'duckdb');
    expect(runOf(execution, 'query').outputs).toMatchObject({ rows: [{ brand: 'a', doubled: 2 }, { brand: 'b', doubled: 6 }], size: 2 });
    expect(runOf(execution, 'one').outputs).toMatchObject({ row: { answer: 42 }, size: 1 });
    const stored = runOf(execution, 'stored').outputs as { uri: string; size: number };
    expect(stored.size).toBe(3);
    expect((await engine.resources.storage.readBuffer(stored.uri)).toString().trim().split('\n')).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
    expect(runOf(execution, 'bad').state.current).toBe('WARNING');
    expect(logs.some((l) => l.taskId === 'bad' && /no_such_table/.test(l.message))).toBe(true);
  });
});
