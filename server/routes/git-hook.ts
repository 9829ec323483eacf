import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { handlePushWebhook, MAX_WEBHOOK_BODY_BYTES } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';

/** POST /hooks/git: verify the signature, record a sync request durably, answer 202. Nothing else. */
export function gitHookRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
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
        { secret: deps.sync.webhookSecret, branch: deps.branch },
        (record) => deps.syncer.recordRequest(record),
      );
      return c.json(answer.body, answer.status);
    },
  );
  return app;
}
