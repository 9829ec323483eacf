import { Hono, type Context } from 'hono';
import { loadSyncHistory, loadSyncStatus, type SyncOutcome, type SyncProblem } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';
import { formatDuration, formatTime } from './formatting.ts';
import { isHtmx, page } from './render.ts';

const RESULTS = new Set(['APPLIED', 'UNCHANGED', 'REFUSED', 'ERROR']);

/** Sync status: repository (never its credentials), branch, live commit, errors with file:line:col, history; "Sync now". */
export function syncPages(deps: ServerDeps): Hono {
  const app = new Hono();

  const render = async (c: Context, outcome?: { result: string; errors?: SyncProblem[]; durationMs?: number }) => {
    const status = await loadSyncStatus(deps.db);
    const history = await loadSyncHistory(deps.db, 20);
    return page(c, 'pages/sync.njk', {
      repository: deps.repository,
      branch: deps.branch,
      flowsPath: deps.sync.flowsPath,
      filesPath: deps.sync.filesPath,
      state: status?.state ?? 'NEVER_SYNCED',
      applied: status?.appliedCommit ? { ...status.appliedCommit, subject: status.appliedCommit.message.split('\n')[0], when: formatTime(status.appliedCommit.date) } : null,
      lastAttempt: { at: formatTime(status?.lastAttempt.at), sha: status?.lastAttempt.sha ?? null },
      lastSuccessAt: formatTime(status?.lastSuccessAt),
      errors: (status?.errors ?? []).map(problemView),
      warnings: (status?.warnings ?? []).map((p) => ({ where: p.path, message: p.message })),
      history: history.map((h) => ({
        started: formatTime(h.startedAt),
        reason: h.reason,
        commitSha: h.commitSha,
        result: h.result,
        changes: {
          flows: h.changes.added.length + h.changes.updated.length + h.changes.deleted.length,
          files: h.changes.files.added.length + h.changes.files.updated.length + h.changes.files.deleted.length,
          summary: summary(h.changes),
        },
        errors: h.errors.length,
        duration: formatDuration(h.durationMs),
      })),
      outcome: outcome ? { result: outcome.result, errors: (outcome.errors ?? []).map(problemView), duration: formatDuration(outcome.durationMs) } : undefined,
    }, 'fragments/sync-status.njk');
  };

  app.get('/ui/sync', (c) => {
    const result = c.req.query('outcome');
    return render(c, result && RESULTS.has(result) ? { result } : undefined);
  });

  app.post('/ui/sync', async (c) => {
    const outcome: SyncOutcome = await deps.syncer.request('manual');
    if (!isHtmx(c)) return c.redirect(`/ui/sync?outcome=${outcome.result}`, 303);
    return render(c, outcome);
  });
  return app;
}

function problemView(p: SyncProblem) {
  return { where: `${p.path}:${p.line}:${p.column}`, message: p.message };
}

function summary(changes: { added: string[]; updated: string[]; deleted: string[] }): string {
  const parts = [
    changes.added.length ? `+${changes.added.length}` : '',
    changes.updated.length ? `~${changes.updated.length}` : '',
    changes.deleted.length ? `−${changes.deleted.length}` : '',
  ].filter(Boolean);
  return parts.join(' ');
}
