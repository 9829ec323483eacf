/**
 * FAKE of Google's OAuth token endpoint for service accounts (the JWT-bearer grant): it checks the
 * signed assertion against the public keys of accounts the test trusts, hands out opaque access
 * tokens, and tells the API fakes which account a bearer token belongs to.
 */
import { createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { json, type FakeRequest, type FakeResponse } from './fake-api.ts';

export interface IssuedToken {
  token: string;
  clientEmail: string;
  scope: string;
}

export class OAuthFake {
  private readonly trusted = new Map<string, { keyId: string; publicKey: KeyObject }>();
  readonly issued: IssuedToken[] = [];

  constructor(private readonly tokenUri: () => string) {}

  trust(account: { clientEmail: string; privateKeyId: string; publicKey: KeyObject }): void {
    this.trusted.set(account.clientEmail, { keyId: account.privateKeyId, publicKey: account.publicKey });
  }

  /** The account a `Bearer …` header stands for, undefined when the token was never issued here. */
  holderOf(authorization: string | undefined): IssuedToken | undefined {
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    return token ? this.issued.find((t) => t.token === token) : undefined;
  }

  handle(request: FakeRequest): FakeResponse {
    const form = new URLSearchParams(request.body.toString());
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return invalidGrant('unsupported_grant_type', 'Invalid grant_type.');
    }
    const [header, payload, signature] = (form.get('assertion') ?? '').split('.');
    if (!header || !payload || !signature) return invalidGrant('invalid_request', 'Invalid JWT.');
    let claims: { iss?: string; aud?: string; scope?: string; exp?: number; iat?: number };
    let head: { alg?: string; kid?: string };
    try {
      head = JSON.parse(Buffer.from(header, 'base64url').toString());
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    } catch {
      return invalidGrant('invalid_request', 'Invalid JWT.');
    }
    const account = this.trusted.get(claims.iss ?? '');
    if (!account) return invalidGrant('invalid_grant', 'Invalid grant: account not found');
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${payload}`);
    if (head.alg !== 'RS256' || !verifier.verify(account.publicKey, Buffer.from(signature, 'base64url'))) {
      return invalidGrant('invalid_grant', 'Invalid JWT Signature.');
    }
    const now = Math.floor(Date.now() / 1000);
    if (claims.aud !== this.tokenUri()) return invalidGrant('invalid_grant', `Invalid JWT: audience must be ${this.tokenUri()}`);
    if (!claims.exp || claims.exp < now || !claims.iat || claims.iat > now + 60) {
      return invalidGrant('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    }
    if (!claims.scope) return invalidGrant('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    const token = `ya29.fake-${randomBytes(16).toString('hex')}`;
    this.issued.push({ token, clientEmail: claims.iss!, scope: claims.scope });
    return json({ access_token: token, expires_in: 3599, token_type: 'Bearer' });
  }
}

function invalidGrant(error: string, description: string): FakeResponse {
  return { status: 400, body: { error, error_description: description } };
}
