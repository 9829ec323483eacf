/** Git push webhooks: detect the host, verify the delivery, and decide whether to record a sync request. */
export type { PushEvent, Provider, RefChange, VerifyResult, WebhookHeaders, WebhookRequest, WebhookVerifier } from './types.ts';
export { VERIFIERS, detectProvider } from './registry.ts';
export {
  MAX_WEBHOOK_BODY_BYTES,
  handlePushWebhook,
  type PushWebhookConfig,
  type RecordOutcome,
  type SyncRequestRecord,
  type WebhookAnswer,
} from './handle.ts';
