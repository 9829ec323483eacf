import { Hono, type Context } from 'hono';
import { FlowNotFoundError, NamespacePathError, normalizeNamespacePath } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';
import { formatBytes } from './formatting.ts';
import { page } from './render.ts';
import { highlightYamlLines } from './yaml-highlight.ts';

/** Bytes of a file shown in the preview; the raw link gives the rest. */
export const PREVIEW_BYTES = 256 * 1024;

/** A read-only browser of namespace files (they live in Git): directories, text previews, raw links. */
export function filePages(deps: ServerDeps): Hono {
  const app = new Hono();

  app.get('/ui/files', async (c) => {
    return page(c, 'pages/files.njk', { namespaces: await deps.flows.namespaces(), filesPath: deps.sync.filesPath });
  });

  app.get('/ui/files/:namespace', async (c) => {
    const namespace = c.req.param('namespace');
    let path: string;
    try {
      path = normalizeNamespacePath(c.req.query('path') ?? '/');
    } catch (err) {
      if (err instanceof NamespacePathError) return browse(c, 400, { namespace, path: '/', crumbs: crumbsOf('/'), error: err.message });
      throw err;
    }
    const crumbs = crumbsOf(path);
    const raw = `/api/v1/namespaces/${encodeURIComponent(namespace)}/files?path=${encodeURIComponent(path)}`;
    const entries = await deps.flows.directory(namespace, path);
    if (entries.length || path === '/') {
      entries.sort((a, b) => (a.type === b.type ? a.fileName.localeCompare(b.fileName) : a.type === 'Directory' ? -1 : 1));
      const base = path === '/' ? '' : path;
      const listing = entries.map((e) => ({ ...e, path: `${base}/${e.fileName}`, size: e.type === 'File' ? formatBytes(e.size) : '' }));
      return browse(c, 200, { namespace, path, crumbs, entries: listing, gitFolder: `${deps.sync.filesPath}/${namespace}${base}` });
    }
    let content: Buffer;
    try {
      content = await deps.flows.namespaceFiles().read(namespace, path);
    } catch (err) {
      if (err instanceof FlowNotFoundError) return browse(c, 404, { namespace, path, crumbs, error: err.message });
      throw err;
    }
    return browse(c, 200, { namespace, path, crumbs, raw, file: preview(path, content) });
  });
  return app;
}

function browse(c: Context, status: 200 | 400 | 404, context: Record<string, unknown>) {
  c.status(status);
  return page(c, 'pages/files-browse.njk', context, 'fragments/files-browser.njk');
}

/** `/a/b/c.sql` → links to `/`, `/a`, `/a/b`, `/a/b/c.sql`. */
function crumbsOf(path: string): { name: string; path: string }[] {
  const parts = path.split('/').filter(Boolean);
  return [{ name: '/', path: '/' }, ...parts.map((name, i) => ({ name, path: `/${parts.slice(0, i + 1).join('/')}` }))];
}

function preview(path: string, content: Buffer) {
  const head = content.subarray(0, PREVIEW_BYTES);
  let text: string | undefined;
  if (!head.subarray(0, 8000).includes(0)) {
    try {
      // A cut may split a character: let the decoder drop the incomplete tail only then.
      text = new TextDecoder('utf-8', { fatal: content.length <= PREVIEW_BYTES }).decode(head);
    } catch {
      text = undefined;
    }
  }
  const yaml = /\.ya?ml$/i.test(path);
  return {
    size: formatBytes(content.length),
    bytes: content.length,
    truncated: content.length > PREVIEW_BYTES,
    binary: text === undefined,
    lines: text === undefined ? [] : yaml ? highlightYamlLines(text) : undefined,
    text,
  };
}
