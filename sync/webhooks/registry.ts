import { bitbucketVerifier } from './bitbucket.ts';
import { giteaVerifier } from './gitea.ts';
import { githubVerifier } from './github.ts';
import { gitlabVerifier } from './gitlab.ts';
import type { Provider, WebhookHeaders, WebhookVerifier } from './types.ts';

/** Every provider's verifier; a new provider is one file and one line here. */
export const VERIFIERS: Record<Provider, WebhookVerifier> = {
  github: githubVerifier,
  gitea: giteaVerifier,
  gitlab: gitlabVerifier,
  bitbucket: bitbucketVerifier,
};

/**
 * The order detection tries providers in. Gitea and Forgejo also send GitHub's headers, so they come
 * before GitHub (GitHub's own `detect` declines them too; the order is a second guard).
 */
export const DETECTION_ORDER: readonly Provider[] = ['gitea', 'gitlab', 'bitbucket', 'github'];

/** The event headers detection looks for, named in the answer to an unrecognised request. */
export const RECOGNISED_EVENT_HEADERS = ['X-GitHub-Event', 'X-Gitea-Event', 'X-Forgejo-Event', 'X-Gitlab-Event', 'X-Event-Key'] as const;

/** The verifier whose headers these are, or undefined when no provider's headers are present. */
export function detectProvider(headers: WebhookHeaders): WebhookVerifier | undefined {
  for (const provider of DETECTION_ORDER) {
    const verifier = VERIFIERS[provider];
    if (verifier.detect(headers)) return verifier;
  }
  return undefined;
}
