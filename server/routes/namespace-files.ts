import { Hono } from 'hono';
import { FlowNotFoundError, NamespacePathError, normalizeNamespacePath } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { readOnlyInGit } from './params.ts';

/** Namespace files (read-only, from `files/<namespace>/` in Git), confined to their namespace. */
export function namespaceFileRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  const path = (raw: string | undefined) => {
    try {
      return normalizeNamespacePath(raw ?? '/');
    } catch (err) {
      if (err instanceof NamespacePathError) throw new HttpError(400, err.message);
      throw err;
    }
  };

  app.get('/api/v1/namespaces/:namespace/files/directory', async (c) => {
    return c.json(await deps.flows.directory(c.req.param('namespace'), path(c.req.query('path'))));
  });

  app.get('/api/v1/namespaces/:namespace/files', async (c) => {
    const namespace = c.req.param('namespace');
    const file = path(c.req.query('path'));
    const content = await deps.flows
      .namespaceFiles()
      .read(namespace, file)
      .catch((err: unknown) => {
        if (err instanceof FlowNotFoundError) throw new HttpError(404, err.message);
        throw err;
      });
    return c.body(new Uint8Array(content), 200, { 'content-type': 'application/octet-stream' });
  });

  const refuse = (c: { req: { param(n: string): string; query(n: string): string | undefined } }) =>
    readOnlyInGit(
      `namespace files are read-only here: change '${deps.sync.filesPath}/${c.req.param('namespace')}${path(c.req.query('path'))}' in ${deps.repository} (branch ${deps.branch}) and push`,
    );
  app.post('/api/v1/namespaces/:namespace/files', (c) => refuse(c));
  app.put('/api/v1/namespaces/:namespace/files', (c) => refuse(c));
  app.delete('/api/v1/namespaces/:namespace/files', (c) => refuse(c));
  return app;
}
