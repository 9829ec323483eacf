/**
 * Errors of the Git source, by kind: `stalled` when a person must act (bad credentials, missing branch,
 * bad URL — retrying cannot help) and `transient` when waiting and retrying can (network, timeouts, 5xx).
 * Nothing here ever carries a credential: messages, stacks and `cause` chains are rebuilt from redacted text.
 */

/** What went wrong; each reason has exactly one kind (see REASON_KINDS). */
export type GitSyncReason =
  | 'auth-failed'
  | 'branch-not-found'
  | 'repository-not-found'
  | 'invalid-url'
  | 'invalid-branch'
  | 'tls'
  | 'permission-denied'
  | 'network'
  | 'timeout'
  | 'server-error'
  | 'object-missing'
  | 'internal';

export type GitSyncErrorKind = 'stalled' | 'transient';

/** The kind of each reason, in one place. */
export const REASON_KINDS: Record<GitSyncReason, GitSyncErrorKind> = {
  'auth-failed': 'stalled',
  'branch-not-found': 'stalled',
  'repository-not-found': 'stalled',
  'invalid-url': 'stalled',
  'invalid-branch': 'stalled',
  tls: 'stalled',
  'permission-denied': 'stalled',
  network: 'transient',
  timeout: 'transient',
  'server-error': 'transient',
  // The commit or blob is not (or no longer) in the local object cache: fetching again brings it back.
  'object-missing': 'transient',
  internal: 'transient',
};

/** A failed Git operation. `message` and `cause` are free of credentials and safe to log and store. */
export class GitSyncError extends Error {
  override readonly name = 'GitSyncError';
  readonly kind: GitSyncErrorKind;

  constructor(
    readonly reason: GitSyncReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.kind = REASON_KINDS[reason];
  }
}

/** True for a GitSyncError (of `kind`, when given). */
export function isGitSyncError(error: unknown, kind?: GitSyncErrorKind): error is GitSyncError {
  return error instanceof GitSyncError && (kind === undefined || error.kind === kind);
}

/** A copy of a foreign error (isomorphic-git, Node) with its text redacted and its payload (`data`, response bodies) left behind. */
export class RedactedError extends Error {
  override name: string;
  declare readonly code?: string;
  declare readonly statusCode?: number;

  constructor(name: string, message: string, stack: string | undefined, extra: { code?: string; statusCode?: number }, cause?: RedactedError) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = name;
    if (extra.code !== undefined) Object.defineProperty(this, 'code', { value: extra.code, enumerable: true });
    if (extra.statusCode !== undefined) Object.defineProperty(this, 'statusCode', { value: extra.statusCode, enumerable: true });
    this.stack = stack;
  }
}

/** Removes known secrets, and the user-info part of any URL, from text. */
export class Redactor {
  // An ES private field, so logging the redactor (or an object holding it) never prints the secrets.
  readonly #secrets: string[];

  constructor(secrets: Iterable<string | undefined>) {
    const all = new Set<string>();
    for (const secret of secrets) {
      if (!secret) continue;
      // Secrets also travel percent-encoded (in URLs) and inside Basic headers.
      for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]) all.add(form);
    }
    // Longest first, so a secret containing another is removed whole.
    this.#secrets = [...all].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let result = text;
    for (const secret of this.#secrets) result = result.split(secret).join('***');
    // Then whatever user-info is left in a URL (credentials this redactor was never told about).
    return result.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1');
  }

  /** A redacted copy of `error` and its cause chain (at most 8 deep); never the original object. */
  error(error: unknown, depth = 0): RedactedError {
    if (!(error instanceof Error)) return new RedactedError('Error', this.redact(String(error)), undefined, {});
    const record = error as Error & { code?: unknown; data?: { statusCode?: unknown; message?: unknown; response?: unknown }; cause?: unknown };
    const code = typeof record.code === 'string' ? record.code : undefined;
    const statusCode = typeof record.data?.statusCode === 'number' ? record.data.statusCode : undefined;
    // isomorphic-git keeps the useful part in `data`: an InternalError's detail, the body of an HTTP error
    // (GitHub explains a 403 there). Keep a short redacted excerpt; drop the rest of the payload.
    const details = [record.data?.message, record.data?.response].filter((value): value is string => typeof value === 'string' && value.trim() !== '');
    const excerpt = details.length === 0 ? '' : `: ${details.join('; ').trim().slice(0, 300)}`;
    const cause = record.cause !== undefined && depth < 8 ? this.error(record.cause, depth + 1) : undefined;
    const stack = error.stack === undefined ? undefined : this.redact(error.stack);
    return new RedactedError(record.name, this.redact(record.message + excerpt), stack, { code, statusCode }, cause);
  }
}

/** What the mapping needs to know about the operation that failed. */
export interface FailureContext {
  displayUrl: string;
  branch: string;
  redactor: Redactor;
  timeoutMs?: number;
  /** The remote ref that was asked for, to tell "branch missing" from other NotFoundErrors. */
  remoteRef?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'EAI_AGAIN',
  // A wrong host name and a resolver outage look the same; a transient error keeps retrying and
  // its message still names the host, where a stalled one would stop a sync after a DNS blip.
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/;

/** Maps any failure of a fetch or read to a GitSyncError whose message and cause are redacted. */
export function toGitSyncError(error: unknown, context: FailureContext): GitSyncError {
  if (error instanceof GitSyncError) return error;
  const { displayUrl, branch, redactor } = context;
  const cause = redactor.error(error);
  const make = (reason: GitSyncReason, message: string) => new GitSyncError(reason, redactor.redact(message), { cause });
  const record = (error ?? {}) as { code?: unknown; name?: unknown; data?: { statusCode?: unknown; what?: unknown; response?: unknown } };
  const code = typeof record.code === 'string' ? record.code : '';
  const detail = cause.message;

  if (code === 'HttpError' && typeof record.data?.statusCode === 'number') {
    const status = record.data.statusCode;
    if (status === 401 || status === 403 || status === 407) return make('auth-failed', `authentication failed for ${displayUrl} (HTTP ${status})`);
    if (status === 404 || status === 410) return make('repository-not-found', `repository not found: ${displayUrl} (HTTP ${status})`);
    if (status === 408 || status === 429 || status >= 500) return make('server-error', `git server error for ${displayUrl} (HTTP ${status}); will retry`);
    return make('invalid-url', `git server refused ${displayUrl} (HTTP ${status})`);
  }
  if (code === 'UserCanceledError') return make('auth-failed', `authentication failed for ${displayUrl}`);
  if (code === 'SmartHttpError') return make('invalid-url', `${displayUrl} does not answer as a git smart-HTTP server`);
  if (code === 'UrlParseError' || code === 'UnknownTransportError') return make('invalid-url', `unsupported git URL ${displayUrl}`);
  if (code === 'NotFoundError' && context.remoteRef !== undefined && record.data?.what === context.remoteRef) {
    return make('branch-not-found', `branch '${branch}' not found in ${displayUrl}`);
  }
  if (code === 'AbortError' || record.name === 'AbortError' || code === 'ABORT_ERR') {
    return make('timeout', `fetching ${displayUrl} timed out${context.timeoutMs ? ` after ${context.timeoutMs} ms` : ''}`);
  }
  if (NETWORK_CODES.has(code) || /socket hang up/i.test(detail)) return make('network', `cannot reach ${displayUrl}: ${detail}`);
  if (TLS_CODES.test(code)) return make('tls', `TLS verification failed for ${displayUrl}: ${detail}`);
  if (code === 'EACCES' || code === 'EPERM') return make('permission-denied', `permission denied while reading ${displayUrl}: ${detail}`);
  return make('internal', `git operation on ${displayUrl} failed: ${detail}`);
}
