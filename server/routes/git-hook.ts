import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { handlePushWebhook, loadSyncStatus, MAX_WEBHOOK_BODY_BYTES, type RecordOutcome, type SyncRequestRecord } from '../../sync/index.ts';
import type { SecurityCounters } from '../auth-throttle.ts';
import type { ServerDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';

/**
 * POST /hooks/git: verify the signature, record a sync request durably, answer 202. Nothing else.
 * A verified push whose commit is already live leads to no sync: signatures do not cover delivery
 * ids, so a captured delivery can be replayed under a new id; such skips are counted in /metrics.
 */
export function gitHookRoutes(deps: ServerDeps, counters: SecurityCounters): Hono {
  const app = new Hono();

  /** Nothing can be new: the pushed commit is the live one, the last fetch saw it, and no sync is under way. */
  const alreadyLive = async (after: string): Promise<boolean> => {
    if (deps.syncer.busy) return false;
    const status = await loadSyncStatus(deps.db);
    return status?.state === 'SYNCED' && status.appliedCommit?.sha === after && status.lastAttempt.sha === after;
  };

  const duplicate = (where: Record<string, unknown>): RecordOutcome => {
    counters.pushesSkipped['duplicate-delivery']++;
    deps.log?.('info', 'verified push skipped: its delivery id was recorded before (a redelivery or a replay)', where);
    return 'duplicate';
  };

  const record = async (request: SyncRequestRecord): Promise<RecordOutcome> => {
    const where = { provider: request.provider, delivery: request.deliveryId ?? null, after: request.after ?? null };
    if (request.after !== undefined && (await alreadyLive(request.after))) {
      // Recorded as already processed: a later delivery with this id is still known as a duplicate.
      if (!(await deps.syncer.recordProcessedRequest(request))) return duplicate(where);
      counters.pushesSkipped['head-unchanged']++;
      deps.log?.('info', 'verified push skipped: its commit is already live (a replayed delivery, or a push that moved nothing)', where);
      return 'head-unchanged';
    }
    const outcome = await deps.syncer.recordRequest(request);
    return outcome === 'duplicate' ? duplicate(where) : outcome;
  };

  app.post(
    '/hooks/git',
    bodyLimit({
      maxSize: MAX_WEBHOOK_BODY_BYTES,
      onError: () => {
        throw new HttpError(413, `webhook body over ${MAX_WEBHOOK_BODY_BYTES} bytes`);
      },
    }),
    async (c) => {
      const rawBody = Buffer.from(await c.req.arrayBuffer());
      const answer = await handlePushWebhook(
        { headers: c.req.raw.headers, rawBody },
        { secret: deps.sync.webhookSecret, allowUnsigned: deps.sync.allowUnsignedWebhooks, branch: deps.branch },
        record,
      );
      return c.json(answer.body, answer.status);
    },
  );
  return app;
}
