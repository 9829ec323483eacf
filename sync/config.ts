import { resolve } from 'node:path';

/** Where flows come from and how the syncer reaches them (environment, documented in docs/configuration.md). */
export interface SyncConfig {
  /** http(s) URL or a local path; defaults to the repository Baton is started in. */
  url: string;
  branch: string;
  /** Folder of flows in the repository (any depth below it). */
  flowsPath: string;
  /** Folder of namespace files: `<filesPath>/<namespace>/<path>`. */
  filesPath: string;
  auth: { token?: string; username?: string; password?: string };
  /** Shared secret of push webhooks; unset when BATON_GIT_WEBHOOK_SECRET is unset or empty. */
  webhookSecret?: string;
  /**
   * Without a secret, pushes are refused unless this is true (BATON_GIT_WEBHOOK_UNSIGNED=allow, which
   * the server honours only when it listens on loopback).
   */
  allowUnsignedWebhooks: boolean;
  /** Fallback poll interval in seconds; 0 turns polling off. */
  pollSeconds: number;
}

export class SyncConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncConfigError';
  }
}

/** Reads BATON_GIT_* variables; a bad value is an error naming the variable. */
export function syncConfigFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): SyncConfig {
  const poll = env.BATON_SYNC_POLL_SECONDS;
  const pollSeconds = poll === undefined || poll === '' ? 60 : Number(poll);
  if (!Number.isFinite(pollSeconds) || pollSeconds < 0) {
    throw new SyncConfigError(`BATON_SYNC_POLL_SECONDS must be a number of seconds ≥ 0, got '${poll}'`);
  }
  const unsigned = env.BATON_GIT_WEBHOOK_UNSIGNED?.trim() ?? '';
  if (unsigned !== '' && unsigned !== 'allow' && unsigned !== 'refuse') {
    throw new SyncConfigError(`BATON_GIT_WEBHOOK_UNSIGNED must be 'allow' or 'refuse', got '${unsigned}'`);
  }
  const trimSlashes = (p: string) => p.replace(/^\/+|\/+$/g, '');
  return {
    url: env.BATON_GIT_URL || resolve(cwd),
    branch: env.BATON_GIT_BRANCH || 'main',
    flowsPath: trimSlashes(env.BATON_GIT_PATH || 'flows'),
    filesPath: trimSlashes(env.BATON_GIT_FILES_PATH || 'files'),
    auth: {
      token: env.BATON_GIT_TOKEN || undefined,
      username: env.BATON_GIT_USERNAME || undefined,
      password: env.BATON_GIT_PASSWORD || undefined,
    },
    // Empty is unset: anyone can sign with an empty key, so it must not pass for a secret.
    webhookSecret: env.BATON_GIT_WEBHOOK_SECRET || undefined,
    allowUnsignedWebhooks: unsigned === 'allow',
    pollSeconds,
  };
}
