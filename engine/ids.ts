import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A 22-character base62 id from 128 random bits, the shape of Kestra's `IdUtils.create()`. */
export function newId(): string {
  let n = BigInt('0x' + randomBytes(16).toString('hex'));
  let out = '';
  while (out.length < 22) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}
