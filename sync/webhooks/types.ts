/** The Git hosts whose push webhooks Baton understands. */
export type Provider = 'github' | 'gitea' | 'gitlab' | 'bitbucket';

/** Header bag as either a Fetch `Headers` or a plain record (any letter case). */
export type WebhookHeaders = Headers | Record<string, string | undefined>;

/** What the HTTP layer hands over: the headers and the body exactly as received. */
export interface WebhookRequest {
  headers: WebhookHeaders;
  /** The raw bytes: signatures are computed over these, never over re-serialised JSON. */
  rawBody: Buffer;
}

/** Verifiers report failure as a value; they never throw on hostile input. */
export type VerifyResult = { ok: true } | { ok: false; error: string };

/** One ref a push moved. `after` is all zeros when the ref was deleted. */
export interface RefChange {
  ref: string;
  after?: string;
}

/** What a delivery announces, read from an untrusted payload: a hint to sync, nothing more. */
export interface PushEvent {
  provider: Provider;
  kind: 'ping' | 'push' | 'other';
  /** The provider's own event name, e.g. `push`, `Push Hook`, `repo:push`. */
  event: string;
  deliveryId?: string;
  /** First ref the push moved (mirrors `changes[0]`). */
  ref?: string;
  after?: string;
  /** Every ref a push moved; one entry except for Bitbucket, which batches refs into one delivery. */
  changes?: RefChange[];
}

/** One Git host's way of recognising, authenticating and reading a push webhook. */
export interface WebhookVerifier {
  provider: Provider;
  /** True when the headers are this provider's (and not another provider imitating its headers). */
  detect(headers: WebhookHeaders): boolean;
  /** Checks the delivery against the shared secret; a missing or malformed proof is `{ ok: false }`. */
  verify(request: WebhookRequest, secret: string): VerifyResult;
  /** Reads the event kind, delivery id and moved refs; a payload that cannot be read is `{ error }`. */
  parse(request: WebhookRequest): PushEvent | { error: string };
}
