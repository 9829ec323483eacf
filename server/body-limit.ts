import type { Context, MiddlewareHandler } from 'hono';
import { limitHint, type Limits } from '../config/index.ts';
import { HttpError } from './errors.ts';

/** Routes that take file uploads (multipart FILE inputs): `limits.uploadBytes` instead of `requestBodyBytes`. */
const UPLOAD_ROUTES: { method: string; path: RegExp }[] = [
  { method: 'POST', path: /^\/api\/v1\/executions\/[^/]+\/[^/]+$/ },
  { method: 'POST', path: /^\/ui\/flows\/[^/]+\/[^/]+\/execute$/ },
];

function isUpload(c: Context): boolean {
  if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')) return false;
  return UPLOAD_ROUTES.some((route) => route.method === c.req.method && route.path.test(c.req.path));
}

/**
 * Caps every request body: `limits.requestBodyBytes`, or `limits.uploadBytes` for a multipart body
 * sent to a route that takes uploads. A declared Content-Length over the cap is refused before a
 * byte is read; a chunked body is counted as it arrives and refused (its stream cancelled) as soon
 * as it passes the cap. Either way 413 naming the limit and the variable that raises it.
 */
export function bodyLimits(limits: Limits): MiddlewareHandler {
  return async function bodyLimits(c, next) {
    const body = c.req.raw.body;
    if (!body) return next();
    const name = isUpload(c) ? 'uploadBytes' : 'requestBodyBytes';
    const max = limits[name];
    const tooLarge = () => new HttpError(413, `request body too large: it exceeds the ${limitHint(name, limits)}`);
    const declared = c.req.header('content-length');
    if (declared !== undefined && !c.req.raw.headers.has('transfer-encoding')) {
      // Node's parser reads exactly Content-Length bytes, so the header is the size.
      if (Number(declared) > max) throw tooLarge();
      return next();
    }
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks) });
    return next();
  };
}
