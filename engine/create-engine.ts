import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logFullLinesFromEnv, limitsFromEnv, type Limits } from '../config/index.ts';
import type { Database, Db } from '../db/index.ts';
import { ConcurrencyGate } from './concurrency/index.ts';
import { WorkQueue } from './queue/index.ts';
import { Engine, type EngineRole } from './executor/engine.ts';
import { LogWriter } from './executor/log-writer.ts';
import { ExecutionRepository } from './executor/repository.ts';
import type { FlowSource } from './executor/resources.ts';
import { StaticFlowSource } from './executor/flow-sources.ts';
import type { PluginDefault } from './flow/types.ts';
import { DbKvStore } from './kv/index.ts';
import { DirectoryNamespaceFiles } from './namespace-files/index.ts';
import type { NamespaceFiles } from './namespace-files/types.ts';
import { EnvSecretStore, SecretCipher, SecretMasker } from './secrets/index.ts';
import type { SecretStore } from './secrets/types.ts';
import { LocalDiskStorage } from './storage/index.ts';

export interface EngineOptions {
  db: Db;
  /** Internal storage lives in `<dataDir>/storage`. */
  dataDir: string;
  /** Flows Subflow may call; none by default. */
  flows?: FlowSource;
  namespaceFiles?: NamespaceFiles;
  secrets?: SecretStore;
  /** Environment for `envs.*` and `SECRET_*` (default: process.env). */
  env?: Record<string, string | undefined>;
  /** LISTEN on the database, so work freed by another process (a concurrency slot) is picked up at once. */
  listen?: Database['listen'];
  /**
   * Where executions run: here (the default), and with a lease when `leaseOwner` is set (standalone
   * and worker processes), or only in workers (server and scheduler processes).
   */
  role?: EngineRole;
  /** Lease length of runs here (default 30 s). */
  leaseMs?: number;
  /** Parent of task working directories (default: the OS temp dir). */
  workRoot?: string;
  /** Instance-level plugin defaults, applied after each flow's own (`forced` ones override the flow). */
  pluginDefaults?: readonly PluginDefault[];
  /** Resource limits (default: BATON_LIMIT_* of `env`, else the safe defaults). */
  limits?: Limits;
  /** Key of SECRET inputs at rest (default: BATON_ENCRYPTION_KEY of `env`; a malformed one throws EncryptionKeyError). */
  encryption?: SecretCipher;
}

/** Assembles an Engine from its parts: database, local-disk storage, KV, env secrets. */
export function createEngine(options: EngineOptions): Engine {
  const env = options.env ?? process.env;
  const masker = new SecretMasker();
  const repository = new ExecutionRepository(options.db);
  const limits = options.limits ?? limitsFromEnv(env);
  const storage = new LocalDiskStorage(join(options.dataDir, 'storage'));
  return new Engine({
    repository,
    // BATON_LOG_FULL_LINES: a line cut at the limit is also kept whole in internal storage.
    logs: new LogWriter(repository, (text) => masker.mask(text), { limits, fullLines: logFullLinesFromEnv(env) ? storage : undefined }),
    storage,
    kv: new DbKvStore(options.db),
    secrets: options.secrets ?? new EnvSecretStore(env),
    masker,
    namespaceFiles: options.namespaceFiles ?? new DirectoryNamespaceFiles({ root: join(options.dataDir, 'files'), layout: 'per-namespace' }),
    flows: options.flows ?? new StaticFlowSource(),
    concurrency: new ConcurrencyGate(options.db, { listen: options.listen }),
    queue: new WorkQueue(options.db, { leaseMs: options.leaseMs, listen: options.listen }),
    workRoot: options.workRoot ?? join(tmpdir(), 'baton-work'),
    env,
    pluginDefaults: options.pluginDefaults,
    limits,
    encryption: options.encryption ?? SecretCipher.fromEnv(env),
  }, options.role);
}
