import { createHash, createSign } from 'node:crypto';
import { TaskFailure } from '../types.ts';

/** The fields of a service account key file that Baton uses. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri?: string;
}

export const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
export const DEFAULT_SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

/**
 * `serviceAccount` (the key file's JSON, as a string or already parsed) as a key. The message of a bad
 * value never quotes it: it is a secret.
 */
export function parseServiceAccount(value: unknown): ServiceAccountKey {
  let key: unknown = value;
  if (typeof value === 'string') {
    try {
      key = JSON.parse(value);
    } catch (error) {
      throw new TaskFailure(`serviceAccount is not valid JSON (${(error as Error).message.replace(/ in JSON.*$/, '')}); paste the whole key file`);
    }
  }
  if (!key || typeof key !== 'object' || Array.isArray(key)) throw new TaskFailure('serviceAccount must be the JSON of a service account key file');
  const fields = key as Record<string, unknown>;
  if (fields.type !== undefined && fields.type !== 'service_account') {
    throw new TaskFailure(`serviceAccount must be a service account key (type 'service_account'), got type '${String(fields.type)}'`);
  }
  for (const name of ['client_email', 'private_key'] as const) {
    if (typeof fields[name] !== 'string' || !fields[name]) throw new TaskFailure(`serviceAccount has no '${name}': paste the whole key file`);
  }
  return fields as unknown as ServiceAccountKey;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Tokens by key, token endpoint and scopes: every task of a run (and of later runs) shares one until it nears expiry. */
const tokens = new Map<string, Promise<CachedToken>>();
/** Refresh this long before Google's expiry, so a token never expires in flight. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * An OAuth access token for the service account: a JWT assertion signed with its key, exchanged at the
 * key file's `token_uri` (Google's endpoint unless the key names another), as Google's own clients do.
 */
export async function accessToken(key: ServiceAccountKey, scopes: readonly string[]): Promise<CachedToken> {
  const tokenUri = key.token_uri || DEFAULT_TOKEN_URI;
  const cacheKey = createHash('sha256').update([key.client_email, key.private_key_id ?? '', key.private_key, tokenUri, ...scopes].join('\n')).digest('hex');
  const cached = tokens.get(cacheKey);
  if (cached) {
    const token = await cached.catch(() => undefined);
    if (token && token.expiresAt - REFRESH_MARGIN_MS > Date.now()) return token;
  }
  const fresh = exchangeAssertion(key, tokenUri, scopes);
  tokens.set(cacheKey, fresh);
  fresh.catch(() => tokens.delete(cacheKey));
  return fresh;
}

async function exchangeAssertion(key: ServiceAccountKey, tokenUri: string, scopes: readonly string[]): Promise<CachedToken> {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
  const claims = { iss: key.client_email, scope: scopes.join(' '), aud: tokenUri, iat: now, exp: now + 3600 };
  const unsigned = `${base64url(header)}.${base64url(claims)}`;
  let signature: string;
  try {
    signature = createSign('RSA-SHA256').update(unsigned).sign(key.private_key, 'base64url');
  } catch (error) {
    throw new TaskFailure(`serviceAccount's private_key cannot sign: ${(error as Error).message}`, { cause: error });
  }
  const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: `${unsigned}.${signature}` });
  let response: Response;
  try {
    response = await fetch(tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    throw new TaskFailure(`cannot reach the OAuth token endpoint ${tokenUri} for ${key.client_email}: ${causeOf(error)}`, { cause: error });
  }
  const text = await response.text();
  let answer: { access_token?: string; expires_in?: number; error?: string; error_description?: string } = {};
  try {
    answer = JSON.parse(text);
  } catch {
    // Reported below with the status.
  }
  if (!response.ok || !answer.access_token) {
    const reason = answer.error ? `${answer.error}${answer.error_description ? `: ${answer.error_description}` : ''}` : text.slice(0, 200);
    throw new TaskFailure(`Google refused a token for service account ${key.client_email} (HTTP ${response.status} from ${tokenUri}): ${reason}`);
  }
  return { token: answer.access_token, expiresAt: Date.now() + (answer.expires_in ?? 3600) * 1000 };
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
