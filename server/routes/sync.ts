import { Hono } from 'hono';
import { loadSyncHistory, loadSyncStatus } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';

/** Sync status (repository without credentials, live commit, errors with file:line) and "sync now". */
export function syncRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  app.get('/api/v1/sync', async (c) => {
    const status = await loadSyncStatus(deps.db);
    return c.json({
      repository: deps.repository,
      branch: deps.branch,
      flowsPath: deps.sync.flowsPath,
      filesPath: deps.sync.filesPath,
      state: status?.state ?? 'NEVER_SYNCED',
      lastAppliedCommit: status?.appliedCommit ?? null,
      lastAttempt: status?.lastAttempt ?? { at: null, sha: null },
      lastSuccessAt: status?.lastSuccessAt ?? null,
      errors: status?.errors ?? [],
      warnings: status?.warnings ?? [],
      history: await loadSyncHistory(deps.db, 20),
    });
  });
  app.post('/api/v1/sync', async (c) => {
    const outcome = await deps.syncer.request('manual');
    return c.json({
      result: outcome.result,
      commit: outcome.commit ?? null,
      changes: outcome.changes,
      errors: outcome.errors,
      warnings: outcome.warnings,
      durationMs: outcome.durationMs,
    });
  });
  return app;
}
