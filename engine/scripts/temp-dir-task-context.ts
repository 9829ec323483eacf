/**
 * TEST HELPER — a TaskContext assembled from real parts on a temporary directory, for testing script
 * and HTTP plugins without the executor: real files for internal storage (kestra:// URIs map to paths
 * under `<root>/storage`), real files for namespace files (`<root>/namespaces/<ns>/…`), a real
 * AbortController, the real template engine, a logger that records every line.
 * Subflows and child tasks are not available here.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KvEntry, KvStore } from '../kv/types.ts';
import type { LogLevel } from '../logs/types.ts';
import type { NamespaceFiles } from '../namespace-files/types.ts';
import type { TaskContext, TaskLogger, TaskStorage } from '../plugins/types.ts';
import type { InternalStorage } from '../storage/types.ts';
import { renderTemplate, renderValue } from '../template/index.ts';

export interface RecordedLog {
  level: LogLevel;
  message: string;
}

export interface TempDirTaskContext<P> {
  ctx: TaskContext<P>;
  root: string;
  logs: RecordedLog[];
  /** Values registered through `maskSecret`. */
  secrets: string[];
  abort(reason?: unknown): void;
  /** Writes a namespace file (path like `/sql/a.sql`). */
  putNamespaceFile(namespace: string, path: string, content: string | Buffer): Promise<void>;
  /** Stores a file in internal storage and returns its kestra:// URI. */
  putStorageFile(name: string, content: string | Buffer): Promise<string>;
  /** Absolute path on disk of a kestra:// URI. */
  storagePath(uri: string): string;
  cleanup(): Promise<void>;
}

export interface TempDirTaskContextOptions {
  namespace?: string;
  flowId?: string;
  taskId?: string;
  variables?: Record<string, unknown>;
}

export async function createTempDirTaskContext<P>(
  props: P,
  options: TempDirTaskContextOptions = {},
): Promise<TempDirTaskContext<P>> {
  const root = await mkdtemp(join(tmpdir(), 'baton-taskctx-'));
  // Searchable, not listable: commands running as the task user must reach the working directory below it.
  await chmod(root, 0o711);
  const namespace = options.namespace ?? 'company.team';
  const flowId = options.flowId ?? 'flow';
  const taskId = options.taskId ?? 'task';
  const executionId = 'exec1';
  const taskRunId = 'taskrun1';
  const logs: RecordedLog[] = [];
  const secrets: string[] = [];
  const controller = new AbortController();
  const storage = new DirectoryStorage(join(root, 'storage'));
  const executionPrefix = `kestra:///${namespace.replace(/\./g, '/')}/${flowId}/executions/${executionId}`;
  const taskPrefix = `${executionPrefix}/tasks/${taskId}/${taskRunId}`;
  const namespaceRoot = join(root, 'namespaces');
  let workingDir: string | undefined;
  const variables = { flow: { id: flowId, namespace }, execution: { id: executionId }, ...(options.variables ?? {}) };

  const logger: TaskLogger = {
    log: (level, message) => void logs.push({ level, message }),
    trace: (m) => void logs.push({ level: 'TRACE', message: m }),
    debug: (m) => void logs.push({ level: 'DEBUG', message: m }),
    info: (m) => void logs.push({ level: 'INFO', message: m }),
    warn: (m) => void logs.push({ level: 'WARN', message: m }),
    error: (m) => void logs.push({ level: 'ERROR', message: m }),
  };

  const checkReadable = (uri: string) => {
    if (!uri.startsWith(executionPrefix + '/')) throw new Error(`'${uri}' does not belong to execution ${executionId}`);
  };
  const taskStorage: TaskStorage = {
    backend: storage,
    putFile: (name, data) => storage.put(`${taskPrefix}/${name.replace(/^\/+/, '')}`, toStorable(data)),
    async read(uri) {
      checkReadable(uri);
      return storage.readBuffer(uri);
    },
    async stream(uri) {
      checkReadable(uri);
      return storage.get(uri);
    },
    async download(uri, destination) {
      checkReadable(uri);
      await mkdir(dirname(destination), { recursive: true });
      await pipeline(await storage.get(uri), createWriteStream(destination));
    },
    purgeExecution: () => storage.deletePrefix(executionPrefix),
  };

  const namespaceFiles: NamespaceFiles = {
    async read(ns, path) {
      return readFile(join(namespaceRoot, ns, path.replace(/^\/+/, '')));
    },
    async list(ns) {
      const base = join(namespaceRoot, ns);
      const files = await walk(base).catch(() => [] as string[]);
      return files.map((f) => '/' + relative(base, f)).sort();
    },
  };

  const render = (value: unknown, extra?: Record<string, unknown>): Promise<unknown> =>
    renderValue(value, { ...variables, ...(extra ?? {}) });

  const ctx: TaskContext<P> = {
    props,
    task: { id: taskId, type: 'test' },
    flow: { id: flowId, namespace, tasks: [] },
    execution: { id: executionId, namespace, flowId, flowRevision: 1 },
    taskRun: { id: taskRunId, taskId, attemptNumber: 1 },
    logger,
    signal: controller.signal,
    variables,
    render,
    renderString: (template, extra) => renderTemplate(template, { ...variables, ...(extra ?? {}) }),
    storage: taskStorage,
    kv: new MemoryKvStore(),
    namespaceFiles,
    async workingDirectory() {
      if (!workingDir) {
        workingDir = join(root, 'work');
        await mkdir(workingDir, { recursive: true });
      }
      return workingDir;
    },
    maskSecret: (value) => void secrets.push(value),
    runTasks: async () => {
      throw new Error('child tasks are not available in the temp-dir test context');
    },
    runSubflow: async () => {
      throw new Error('subflows are not available in the temp-dir test context');
    },
    outputs: () => ({}),
  };

  return {
    ctx,
    root,
    logs,
    secrets,
    abort: (reason) => controller.abort(reason),
    async putNamespaceFile(ns, path, content) {
      const target = join(namespaceRoot, ns, path.replace(/^\/+/, ''));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    },
    putStorageFile: (name, content) => storage.put(`${executionPrefix}/inputs/${name}`, content),
    storagePath: (uri) => storage.pathOf(uri),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** InternalStorage on a plain directory: `kestra:///a/b` is `<dir>/a/b`. */
class DirectoryStorage implements InternalStorage {
  constructor(private readonly dir: string) {}

  pathOf(uri: string): string {
    if (!uri.startsWith('kestra:///')) throw new Error(`not a kestra:/// URI: ${uri}`);
    const rel = uri.slice('kestra:///'.length);
    if (rel.split('/').includes('..')) throw new Error(`traversal in ${uri}`);
    return join(this.dir, rel);
  }

  async put(uri: string, data: Buffer | string | Readable | { file: string }): Promise<string> {
    const path = this.pathOf(uri);
    await mkdir(dirname(path), { recursive: true });
    if (typeof data === 'string' || Buffer.isBuffer(data)) await writeFile(path, data);
    else if (data instanceof Readable) await pipeline(data, createWriteStream(path));
    else await copyFile(data.file, path);
    return uri;
  }
  async get(uri: string): Promise<Readable> {
    await stat(this.pathOf(uri));
    return createReadStream(this.pathOf(uri));
  }
  readBuffer(uri: string): Promise<Buffer> {
    return readFile(this.pathOf(uri));
  }
  exists(uri: string): Promise<boolean> {
    return stat(this.pathOf(uri)).then(() => true, () => false);
  }
  async size(uri: string): Promise<number> {
    return (await stat(this.pathOf(uri))).size;
  }
  async delete(uri: string): Promise<boolean> {
    const existed = await this.exists(uri);
    await rm(this.pathOf(uri), { force: true });
    return existed;
  }
  async deletePrefix(prefix: string): Promise<string[]> {
    const uris = await this.list(prefix);
    await rm(this.pathOf(prefix), { recursive: true, force: true });
    return uris;
  }
  async list(prefix: string): Promise<string[]> {
    const base = this.pathOf(prefix);
    const files = await walk(base).catch(() => [] as string[]);
    return files.map((f) => `kestra:///${relative(this.dir, f)}`).sort();
  }
  localPath(uri: string): string | undefined {
    return this.pathOf(uri);
  }
}

class MemoryKvStore implements KvStore {
  private readonly entries = new Map<string, KvEntry>();
  async get(namespace: string, key: string) {
    return this.entries.get(`${namespace}\0${key}`);
  }
  async set(namespace: string, key: string, value: unknown) {
    const entry: KvEntry = { namespace, key, value, type: 'JSON', updateDate: new Date().toISOString() };
    this.entries.set(`${namespace}\0${key}`, entry);
    return entry;
  }
  async delete(namespace: string, key: string) {
    return this.entries.delete(`${namespace}\0${key}`);
  }
  async list(namespace: string) {
    return [...this.entries.values()].filter((e) => e.namespace === namespace);
  }
}

function toStorable(data: Buffer | string | { file: string } | NodeJS.ReadableStream): Buffer | string | Readable | { file: string } {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  if ('file' in data && typeof (data as { file: unknown }).file === 'string') return data as { file: string };
  return Readable.from(data as AsyncIterable<Buffer>);
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}
