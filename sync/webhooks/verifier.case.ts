/**
 * The contract every WebhookVerifier passes. A provider's test file calls
 * `runVerifierContract('<provider>', fixture)` with a fixture that signs bodies the provider's way and
 * builds its payload shapes; the signing uses node:crypto directly, never the code under test.
 */
import { describe, expect, test } from 'vitest';
import { VERIFIERS, detectProvider } from './registry.ts';
import type { Provider, PushEvent, WebhookRequest, WebhookVerifier } from './types.ts';

export interface VerifierFixture {
  verifier: WebhookVerifier;
  /** Headers a real push delivery carries, without the proof (signature or token). */
  pushHeaders(deliveryId: string): Record<string, string>;
  /** The provider's push payload moving `ref` to `after` (`refs/tags/…` for a tag push). */
  pushBody(ref: string, after: string): unknown;
  /** The provider's payload for a push that deleted `ref`. */
  deletionBody(ref: string): unknown;
  /** The proof headers computed the provider's way for `body` and `secret`. */
  sign(body: Buffer, secret: string): Record<string, string>;
  /** The header carrying the proof. */
  proofHeader: string;
  /** Whether the proof covers the body (HMAC) or only shows the secret (GitLab's token). */
  bindsBody: boolean;
  /** Provider-specific malformed proofs (wrong prefix …), on top of the generic ones the suite derives. */
  malformedProofs(validProof: string): string[];
  /** What the provider's "test"/"ping" button sends, and the kind it must parse to. */
  testDelivery: { headers: Record<string, string>; body: unknown; kind: 'ping' | 'push' };
  /** A non-push event the provider sends. */
  otherEvent: { headers: Record<string, string>; body: unknown };
}

/**
 * Header sets as the hosts send them (values shortened). Gitea also sends GitHub's and Gogs' headers;
 * Forgejo sends its own, Gitea's, Gogs' and GitHub's.
 */
export const REAL_HEADER_SETS: ReadonlyArray<{ host: string; provider: Provider; headers: Record<string, string> }> = [
  {
    host: 'GitHub',
    provider: 'github',
    headers: {
      'User-Agent': 'GitHub-Hookshot/5a6c2f1',
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'X-GitHub-Hook-ID': '292430182',
      'X-GitHub-Hook-Installation-Target-Type': 'repository',
      'X-Hub-Signature': 'sha1=7d38cdd689735b008b3c702edd92eea23791c5f6',
      'X-Hub-Signature-256': 'sha256=d57c68ca6f92289e6987922ff26938930f6e66a2d161ef06abdf1859230aa23c',
    },
  },
  {
    host: 'Gitea',
    provider: 'gitea',
    headers: {
      'X-Gitea-Event': 'push',
      'X-Gitea-Event-Type': 'push',
      'X-Gitea-Delivery': 'f6266f16-1bf3-46a5-9ea4-602e06ead473',
      'X-Gitea-Signature': '1fb2ff6bd5f2e2ad1ed3d7e0c2cb2f0b0c1e9e6b0ab8c3c9a3c5a6b0f5e8d7c1',
      'X-Gogs-Event': 'push',
      'X-Gogs-Delivery': 'f6266f16-1bf3-46a5-9ea4-602e06ead473',
      'X-Gogs-Signature': '1fb2ff6bd5f2e2ad1ed3d7e0c2cb2f0b0c1e9e6b0ab8c3c9a3c5a6b0f5e8d7c1',
      'X-GitHub-Event': 'push',
      'X-GitHub-Event-Type': 'push',
      'X-GitHub-Delivery': 'f6266f16-1bf3-46a5-9ea4-602e06ead473',
      'X-Hub-Signature': 'sha1=3c2a9d2b1b1c4a0c0a8f0a3e0e5b0b5a4c2c1d0e',
      'X-Hub-Signature-256': 'sha256=1fb2ff6bd5f2e2ad1ed3d7e0c2cb2f0b0c1e9e6b0ab8c3c9a3c5a6b0f5e8d7c1',
    },
  },
  {
    host: 'Forgejo',
    provider: 'gitea',
    headers: {
      'X-Forgejo-Event': 'push',
      'X-Forgejo-Event-Type': 'push',
      'X-Forgejo-Delivery': '0e1c3bb5-9e3a-4c1e-a4a3-3f4f1c2e7d11',
      'X-Forgejo-Signature': '9a0c2d4a8b6e1f3d5c7b9a1e3f5d7c9b1a3e5f7d9c1b3a5e7f9d1c3b5a7e9f1d',
      'X-Gitea-Event': 'push',
      'X-Gitea-Delivery': '0e1c3bb5-9e3a-4c1e-a4a3-3f4f1c2e7d11',
      'X-Gitea-Signature': '9a0c2d4a8b6e1f3d5c7b9a1e3f5d7c9b1a3e5f7d9c1b3a5e7f9d1c3b5a7e9f1d',
      'X-Gogs-Event': 'push',
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': '0e1c3bb5-9e3a-4c1e-a4a3-3f4f1c2e7d11',
      'X-Hub-Signature-256': 'sha256=9a0c2d4a8b6e1f3d5c7b9a1e3f5d7c9b1a3e5f7d9c1b3a5e7f9d1c3b5a7e9f1d',
    },
  },
  {
    host: 'GitLab',
    provider: 'gitlab',
    headers: {
      'User-Agent': 'GitLab/17.2.0-ee',
      'X-Gitlab-Event': 'Push Hook',
      'X-Gitlab-Token': 'hunter2',
      'X-Gitlab-Instance': 'https://gitlab.example.com',
      'X-Gitlab-Event-UUID': '13792a34-cac6-4fda-95a8-c58e00a3954e',
      'X-Gitlab-Webhook-UUID': '8ac8ec95-2f9f-4d27-8b0d-6bfe2a1a1d4b',
      'Idempotency-Key': 'f5e5f430-f57b-4e6e-9fac-d9128cd7232f',
    },
  },
  {
    host: 'Bitbucket Cloud',
    provider: 'bitbucket',
    headers: {
      'User-Agent': 'Bitbucket-Webhooks/2.0',
      'X-Event-Key': 'repo:push',
      'X-Hook-UUID': '{4d3b1f5c-2a6e-4b8d-9c0f-1e2d3c4b5a69}',
      'X-Request-UUID': '2b6a3e1c-7d4f-4a9b-8e5c-0f1d2c3b4a59',
      'X-Attempt-Number': '1',
      'X-Hub-Signature': 'sha256=3f1e8c4d2b6a9e7f0c5d1b3a8e6f2c4d9b7a1e5f3c8d0b6a2e4f9c7d1b5a3e8f',
    },
  },
];

const SECRET = 'It is a secret to everybody';
const AFTER = '4f9a3c1d2e8b7a6f5c4d3e2b1a0f9e8d7c6b5a49';

function jsonBuffer(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Headers with every name lower-cased, as Node's IncomingMessage presents them. */
function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function parsed(result: PushEvent | { error: string }): PushEvent {
  if (!('kind' in result)) throw new Error(`expected a parsed event, got error: ${result.error}`);
  return result;
}

export function runVerifierContract(name: Provider, fixture: VerifierFixture): void {
  const { verifier } = fixture;

  function signedPush(body: Buffer = jsonBuffer(fixture.pushBody('refs/heads/main', AFTER))): WebhookRequest {
    return { headers: { ...fixture.pushHeaders('delivery-1'), ...fixture.sign(body, SECRET) }, rawBody: body };
  }

  function withProof(request: WebhookRequest, proof: string): WebhookRequest {
    return { ...request, headers: { ...(request.headers as Record<string, string>), [fixture.proofHeader]: proof } };
  }

  describe(`${name} verifier contract`, () => {
    test('is registered under its own provider name', () => {
      expect(verifier.provider).toBe(name);
      expect(VERIFIERS[name]).toBe(verifier);
    });

    describe('verify', () => {
      test('accepts a delivery signed the provider\'s way with the configured secret', () => {
        expect(verifier.verify(signedPush(), SECRET)).toEqual({ ok: true });
      });

      test('reads the proof whatever the header letter case, from a record or a Headers object', () => {
        const request = signedPush();
        const headers = request.headers as Record<string, string>;
        expect(verifier.verify({ ...request, headers: lowerCased(headers) }, SECRET)).toEqual({ ok: true });
        expect(verifier.verify({ ...request, headers: new Headers(headers) }, SECRET)).toEqual({ ok: true });
      });

      test('verifies the raw bytes, even ones that are not valid UTF-8', () => {
        const body = Buffer.concat([jsonBuffer(fixture.pushBody('refs/heads/main', AFTER)), Buffer.from([0xff, 0xfe, 0x80])]);
        expect(verifier.verify(signedPush(body), SECRET)).toEqual({ ok: true });
      });

      test('a body changed by one byte after signing', () => {
        const request = signedPush();
        for (const position of [0, Math.floor(request.rawBody.length / 2), request.rawBody.length - 1]) {
          const tampered = Buffer.from(request.rawBody);
          tampered[position] ^= 0x01;
          const result = verifier.verify({ ...request, rawBody: tampered }, SECRET);
          // GitLab's token proves the sender knows the secret but does not cover the body.
          expect(result.ok).toBe(!fixture.bindsBody);
        }
        const appended = Buffer.concat([request.rawBody, Buffer.from(' ')]);
        expect(verifier.verify({ ...request, rawBody: appended }, SECRET).ok).toBe(!fixture.bindsBody);
      });

      test('refuses a delivery signed with another secret', () => {
        const body = jsonBuffer(fixture.pushBody('refs/heads/main', AFTER));
        const forged: WebhookRequest = { headers: { ...fixture.pushHeaders('d'), ...fixture.sign(body, `${SECRET}!`) }, rawBody: body };
        const result = verifier.verify(forged, SECRET);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.error).not.toContain(SECRET);
      });

      test('refuses a delivery without the proof header, naming the header', () => {
        const body = jsonBuffer(fixture.pushBody('refs/heads/main', AFTER));
        const result = verifier.verify({ headers: fixture.pushHeaders('d'), rawBody: body }, SECRET);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.error.toLowerCase()).toContain(fixture.proofHeader.toLowerCase());
      });

      test('does not fall back to other proofs the delivery carries when its own is removed', () => {
        // Gitea also signs under GitHub's header names; only its own header counts for a Gitea delivery.
        const request = signedPush();
        const headers = { ...(request.headers as Record<string, string>) };
        delete headers[fixture.proofHeader];
        expect(verifier.verify({ ...request, headers }, SECRET).ok).toBe(false);
      });

      test('refuses malformed proofs without throwing', () => {
        const request = signedPush();
        const valid = (request.headers as Record<string, string>)[fixture.proofHeader];
        expect(valid).toBeTruthy();
        const malformed = [
          '',
          ' ',
          'x',
          valid.slice(0, -1),
          `${valid}0`,
          `${valid.slice(0, -1)}g`,
          valid.slice(0, Math.floor(valid.length / 2)),
          `${valid}${valid}`,
          '\u00e9'.repeat(valid.length),
          ...fixture.malformedProofs(valid),
        ];
        for (const proof of malformed) {
          let result: ReturnType<WebhookVerifier['verify']> | undefined;
          expect(() => {
            result = verifier.verify(withProof(request, proof), SECRET);
          }, `proof ${JSON.stringify(proof)}`).not.toThrow();
          expect(result?.ok, `proof ${JSON.stringify(proof)}`).toBe(false);
          if (result && !result.ok) expect(result.error).toEqual(expect.any(String));
        }
      });

      test('refuses to verify against an empty secret, even a delivery signed with one', () => {
        const body = jsonBuffer(fixture.pushBody('refs/heads/main', AFTER));
        const request: WebhookRequest = { headers: { ...fixture.pushHeaders('d'), ...fixture.sign(body, '') }, rawBody: body };
        expect(verifier.verify(request, '').ok).toBe(false);
      });
    });

    describe('detect', () => {
      test('recognises its own push headers, and the registry picks it for them', () => {
        const headers = { ...fixture.pushHeaders('d'), ...fixture.sign(Buffer.from('{}'), SECRET) };
        expect(verifier.detect(headers)).toBe(true);
        expect(verifier.detect(new Headers(headers))).toBe(true);
        expect(detectProvider(lowerCased(headers))?.provider).toBe(name);
      });

      test.each(REAL_HEADER_SETS)('on headers as $host sends them', ({ provider, headers }) => {
        expect(verifier.detect(headers)).toBe(provider === name);
        expect(detectProvider(headers)?.provider).toBe(provider);
      });

      test('does not claim a request with no provider headers', () => {
        expect(verifier.detect({ 'content-type': 'application/json', 'user-agent': 'curl/8.5.0' })).toBe(false);
        expect(verifier.detect(new Headers())).toBe(false);
      });
    });

    describe('parse', () => {
      test('reads a push: ref, after and delivery id', () => {
        const event = parsed(verifier.parse(signedPush()));
        expect(event).toMatchObject({ provider: name, kind: 'push', ref: 'refs/heads/main', after: AFTER, deliveryId: 'delivery-1' });
        expect(event.changes).toEqual([{ ref: 'refs/heads/main', after: AFTER }]);
      });

      test('reads a tag push as a push of refs/tags/…', () => {
        const body = jsonBuffer(fixture.pushBody('refs/tags/v1.2.0', AFTER));
        const event = parsed(verifier.parse({ headers: fixture.pushHeaders('d'), rawBody: body }));
        expect(event).toMatchObject({ kind: 'push', ref: 'refs/tags/v1.2.0' });
      });

      test('reads a branch deletion as a push whose after is all zeros', () => {
        const body = jsonBuffer(fixture.deletionBody('refs/heads/main'));
        const event = parsed(verifier.parse({ headers: fixture.pushHeaders('d'), rawBody: body }));
        expect(event.kind).toBe('push');
        expect(event.ref).toBe('refs/heads/main');
        expect(event.after).toMatch(/^0{40}$/);
      });

      test('a payload field named "error" does not turn a push into a failure', () => {
        const body = jsonBuffer({ ...(fixture.pushBody('refs/heads/main', AFTER) as object), error: 'not mine' });
        expect(parsed(verifier.parse({ headers: fixture.pushHeaders('d'), rawBody: body }))).toMatchObject({ kind: 'push', ref: 'refs/heads/main' });
      });

      test(`reads the provider's test delivery as ${fixture.testDelivery.kind}`, () => {
        const { headers, body, kind } = fixture.testDelivery;
        expect(parsed(verifier.parse({ headers, rawBody: jsonBuffer(body) }))).toMatchObject({ provider: name, kind });
      });

      test('reads any other event as other', () => {
        const { headers, body } = fixture.otherEvent;
        expect(parsed(verifier.parse({ headers, rawBody: jsonBuffer(body) }))).toMatchObject({ provider: name, kind: 'other' });
      });

      test('reports unreadable push payloads as errors, without throwing', () => {
        for (const raw of ['', 'not json', '{"ref": "refs/heads/main"', '[]', 'null', '"refs/heads/main"', '42']) {
          const result = verifier.parse({ headers: fixture.pushHeaders('d'), rawBody: Buffer.from(raw) });
          expect(result, `body ${JSON.stringify(raw)}`).toEqual({ error: expect.any(String) });
        }
      });

      test('reports a push payload that names no ref as an error', () => {
        const result = verifier.parse({ headers: fixture.pushHeaders('d'), rawBody: jsonBuffer({ after: AFTER }) });
        expect(result).toEqual({ error: expect.any(String) });
      });
    });
  });
}
