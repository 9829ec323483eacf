import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { VerifyResult } from './types.ts';

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** Hex HMAC-SHA256 of the raw body, the way GitHub, Gitea and Bitbucket sign deliveries. */
export function hmacSha256Hex(body: Buffer, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Compares a claimed hex HMAC-SHA256 with the one computed from `body`. The claim must be exactly 64
 * hex digits (the length of any SHA-256 HMAC is public, so checking it leaks nothing); the bytes
 * are then compared with `timingSafeEqual`.
 */
export function verifyHexHmacSha256(body: Buffer, secret: string, claimedHex: string, header: string): VerifyResult {
  if (!SHA256_HEX.test(claimedHex)) return { ok: false, error: `malformed ${header} header: expected 64 hex digits` };
  const claimed = Buffer.from(claimedHex, 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  if (claimed.length !== expected.length || !timingSafeEqual(claimed, expected)) {
    return { ok: false, error: `${header} does not match the body signed with the configured secret` };
  }
  return { ok: true };
}

// Fixed per process so the digests below are not precomputable from outside.
const TOKEN_KEY = randomBytes(32);

/**
 * Constant-time equality of two strings of any length: both are reduced to keyed SHA-256 digests of
 * equal size first, so neither the comparison's time nor an early length check reveals the secret's
 * length.
 */
export function constantTimeEqualText(given: string, expected: string): boolean {
  const a = createHmac('sha256', TOKEN_KEY).update(given, 'utf8').digest();
  const b = createHmac('sha256', TOKEN_KEY).update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** Refuses an empty secret: anyone can compute an HMAC keyed with nothing. */
export function emptySecretRefusal(secret: string): VerifyResult | undefined {
  return secret === '' ? { ok: false, error: 'the configured webhook secret is empty; nothing can be verified' } : undefined;
}
