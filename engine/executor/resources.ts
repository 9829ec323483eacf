import type { Limits } from '../../config/index.ts';
import type { ConcurrencyGate } from '../concurrency/index.ts';
import type { WorkQueue } from '../queue/index.ts';
import type { FlowDef, PluginDefault } from '../flow/types.ts';
import type { KvStore } from '../kv/types.ts';
import type { NamespaceFiles } from '../namespace-files/types.ts';
import type { SecretCipher } from '../secrets/encryption.ts';
import type { SecretMasker } from '../secrets/secret-masker.ts';
import type { SecretStore } from '../secrets/types.ts';
import type { InternalStorage } from '../storage/types.ts';
import type { LogWriter } from './log-writer.ts';
import type { ExecutionRepository } from './repository.ts';

/** A flow ready to run, with where it came from. */
export interface ResolvedFlow {
  flow: FlowDef;
  revision: number;
  /** Git commit sha of this revision, when it came from Git. */
  commitSha?: string | null;
}

/** Where Subflow finds the flows it calls (a folder for `baton run --flows`, the database for the server). */
export interface FlowSource {
  find(namespace: string, id: string, revision?: number): Promise<ResolvedFlow | undefined>;
}

/** What every part of a running execution shares (trigger.dev's "resources" object). */
export interface EngineResources {
  repository: ExecutionRepository;
  logs: LogWriter;
  storage: InternalStorage;
  kv: KvStore;
  secrets: SecretStore;
  /** Encrypts SECRET inputs at rest (BATON_ENCRYPTION_KEY); absent without a key, and such inputs are then refused. */
  encryption?: SecretCipher;
  /** Registers and masks secret values in logs and outputs. */
  masker: Pick<SecretMasker, 'add' | 'mask' | 'maskDeep' | 'lines'>;
  namespaceFiles: NamespaceFiles;
  flows: FlowSource;
  /** Admission of executions of flows with a `concurrency` limit. */
  concurrency: ConcurrencyGate;
  /** Unfinished executions, claimed under leases by the processes that run them. */
  queue: WorkQueue;
  /** Parent folder of task working directories. */
  workRoot: string;
  /** Source of `envs.*` (KESTRA_-prefixed variables). */
  env: Record<string, string | undefined>;
  /**
   * Instance-level plugin defaults (Kestra's `kestra.plugins.defaults`): they apply after the flow's
   * own, so a flow's value wins unless the instance entry is `forced`.
   */
  pluginDefaults?: readonly PluginDefault[];
  /** Resource limits every part enforces (config/limits.ts). */
  limits: Limits;
}
