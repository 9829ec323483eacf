/**
 * What the Google Cloud FAKES share: the request/response shapes of the local server, Google's JSON
 * error body, multipart/related parsing (both APIs upload that way) and CRC32C (GCS object hashes).
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON. */
  body?: Buffer | string | object;
}

/** Google's error body: `{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}`. */
export function googleError(code: number, reason: string, message: string, status?: string): FakeResponse {
  return {
    status: code,
    body: { error: { code, message, errors: [{ message, domain: 'global', reason }], status: status ?? statusOf(code) } },
  };
}

function statusOf(code: number): string {
  switch (code) {
    case 400: return 'INVALID_ARGUMENT';
    case 401: return 'UNAUTHENTICATED';
    case 403: return 'PERMISSION_DENIED';
    case 404: return 'NOT_FOUND';
    case 409: return 'ALREADY_EXISTS';
    default: return 'UNKNOWN';
  }
}

export function json(body: object, status = 200): FakeResponse {
  return { status, body };
}

export interface MultipartPart {
  headers: Record<string, string>;
  body: Buffer;
}

/** The parts of a `multipart/related; boundary=…` body (the metadata part, then the media part). */
export function parseMultipartRelated(contentType: string | undefined, body: Buffer): MultipartPart[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (!boundary) throw new Error(`not a multipart body: ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    // Each part: CRLF, headers, CRLF CRLF, content, CRLF before the next delimiter.
    const raw = body.subarray(start + 2, next - 2);
    const split = raw.indexOf('\r\n\r\n');
    const headerText = split === -1 ? '' : raw.subarray(0, split).toString();
    const headers: Record<string, string> = {};
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, body: split === -1 ? raw : raw.subarray(split + 4) });
    at = next;
  }
  return parts;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), as GCS reports it: the big-endian 4 bytes, base64. */
export function crc32cBase64(data: Buffer): string {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}
