import { RECOGNISED_EVENT_HEADERS, detectProvider } from './registry.ts';
import type { Provider, RefChange, WebhookRequest } from './types.ts';

/**
 * Largest body `/hooks/git` accepts. The HTTP layer enforces it while streaming; the handler checks
 * again so a caller that forgot cannot hand it an unbounded buffer.
 */
export const MAX_WEBHOOK_BODY_BYTES = 3 * 1024 * 1024;

export interface PushWebhookConfig {
  /**
   * Shared secret set on the Git host. Undefined or empty means none: anyone can sign with an empty
   * key, so an empty value is no secret. Without one, deliveries are refused unless `allowUnsigned`.
   */
  secret?: string;
  /**
   * Accept deliveries without verification when there is no secret (BATON_GIT_WEBHOOK_UNSIGNED=allow,
   * loopback only). Tolerable only because a delivery merely asks for a sync of the configured URL and branch.
   */
  allowUnsigned?: boolean;
  /** Branch the syncer follows, `main` or `refs/heads/main`. */
  branch: string;
}

/** The "sync requested" row; the payload's `after` is a hint only, the syncer fetches the branch itself. */
export interface SyncRequestRecord {
  provider: Provider;
  deliveryId?: string;
  ref?: string;
  after?: string;
}

/**
 * `duplicate` when a row with this provider and delivery id already exists (a redelivery or replay);
 * `head-unchanged` when the pushed commit is already live, so there is nothing to sync (a replayed
 * delivery under a new id, or a push that moved nothing).
 */
export type RecordOutcome = 'recorded' | 'duplicate' | 'head-unchanged';

export interface WebhookAnswer {
  status: 200 | 202 | 400 | 401 | 413;
  body: { message: string; [k: string]: unknown };
}

const MAX_ECHO = 200;

/** Untrusted text echoed in a message is cut short so a hostile header cannot bloat the answer. */
function clip(text: string): string {
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
}

function watchedRef(branch: string): string {
  return branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
}

function isDeletion(after: string | undefined): boolean {
  return after !== undefined && /^0+$/.test(after);
}

/**
 * Decides what `POST /hooks/git` answers: detect the provider, verify, read the event, and for a push
 * to the watched branch call `record` once. Nothing is fetched here and no URL from the payload is
 * used. Errors thrown by `record` propagate, so the host sees a failed delivery and can redeliver.
 */
export async function handlePushWebhook(
  request: WebhookRequest,
  config: PushWebhookConfig,
  record: (r: SyncRequestRecord) => Promise<RecordOutcome>,
): Promise<WebhookAnswer> {
  if (request.rawBody.length > MAX_WEBHOOK_BODY_BYTES) {
    return { status: 413, body: { message: `payload larger than ${MAX_WEBHOOK_BODY_BYTES} bytes` } };
  }
  const verifier = detectProvider(request.headers);
  if (verifier === undefined) {
    return {
      status: 400,
      body: { message: `unrecognised webhook: expected one of the headers ${RECOGNISED_EVENT_HEADERS.join(', ')}` },
    };
  }
  const provider = verifier.provider;

  // With no secret there is nothing to check a signature against: a delivery is accepted (signed or
  // not) only where unsigned pushes were explicitly allowed; the server warns at start either way.
  if (config.secret) {
    const verdict = verifier.verify(request, config.secret);
    if (!verdict.ok) return { status: 401, body: { message: `${provider} webhook rejected: ${verdict.error}`, provider } };
  } else if (!config.allowUnsigned) {
    return {
      status: 401,
      body: {
        message: `${provider} webhook refused: no BATON_GIT_WEBHOOK_SECRET is configured, so no delivery can be verified ` +
          '(set the same secret here and on the Git host; BATON_GIT_WEBHOOK_UNSIGNED=allow accepts unsigned pushes on a loopback-only server)',
        provider,
      },
    };
  }

  const event = verifier.parse(request);
  if ('error' in event) return { status: 400, body: { message: `${provider} webhook unreadable: ${event.error}`, provider } };

  switch (event.kind) {
    case 'ping':
      return { status: 200, body: { message: 'pong', provider } };
    case 'other':
      return { status: 202, body: { message: `ignored: ${provider} event "${clip(event.event)}" is not a push`, provider } };
    case 'push':
      break;
  }

  const watched = watchedRef(config.branch);
  const changes: RefChange[] = event.changes ?? (event.ref === undefined ? [] : [{ ref: event.ref, after: event.after }]);
  const match = changes.find((change) => change.ref === watched);
  if (match === undefined) {
    const pushed = changes.length === 0 ? 'no ref' : clip(changes.map((change) => change.ref).join(', '));
    return { status: 202, body: { message: `ignored: push to ${pushed}, watching ${watched}`, provider } };
  }

  // A deletion of the watched branch is still recorded: the syncer fetches, finds the branch gone and
  // reports that as needing a person, instead of Baton silently running stale flows. The all-zero
  // `after` is dropped because it names no commit. A forged deletion (when unsigned) costs one fetch.
  const deleted = isDeletion(match.after);
  const outcome = await record({
    provider,
    deliveryId: event.deliveryId,
    ref: match.ref,
    after: deleted ? undefined : match.after,
  });
  if (outcome === 'head-unchanged') {
    return {
      status: 202,
      body: { message: `nothing to sync: ${clip(match.after ?? '')} is already live`, provider, delivery: event.deliveryId ?? null, duplicate: false, unchanged: true },
    };
  }
  return {
    status: 202,
    body: {
      message: 'sync requested',
      provider,
      delivery: event.deliveryId ?? null,
      duplicate: outcome === 'duplicate',
      ...(deleted ? { note: `the push deleted ${watched}; the syncer will report it` } : {}),
    },
  };
}
