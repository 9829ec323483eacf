import { parseIsoDuration } from '../duration.ts';
import type { RetryDef } from '../flow/types.ts';

/**
 * Where a failed attempt is retried: the delay before attempt `attemptNumber + 1`, or null to stop.
 * `maxAttempt` counts every attempt, the first included (Failsafe's `withMaxAttempts`, as Kestra).
 */
export function nextRetryDelay(
  retry: RetryDef | undefined,
  attemptNumber: number,
  elapsedMs: number,
  random: () => number = Math.random,
): number | null {
  if (!retry) return null;
  // Neither bound given: Failsafe's default of 3 attempts rather than retrying forever.
  const maxAttempt = retry.maxAttempt ?? (retry.maxDuration === undefined ? 3 : undefined);
  if (maxAttempt !== undefined && attemptNumber >= maxAttempt) return null;
  let delay: number;
  switch (retry.type) {
    case 'constant':
      delay = parseIsoDuration(retry.interval);
      break;
    case 'exponential': {
      const base = parseIsoDuration(retry.interval);
      const factor = retry.delayFactor ?? 2;
      delay = Math.min(base * factor ** (attemptNumber - 1), parseIsoDuration(retry.maxInterval));
      break;
    }
    case 'random': {
      const min = parseIsoDuration(retry.minInterval);
      const max = parseIsoDuration(retry.maxInterval);
      delay = min + Math.floor(random() * Math.max(0, max - min));
      break;
    }
    default:
      return assertNever(retry);
  }
  if (retry.maxDuration !== undefined && elapsedMs + delay > parseIsoDuration(retry.maxDuration)) return null;
  return delay;
}

function assertNever(value: never): never {
  throw new Error(`unknown retry type: ${JSON.stringify(value)}`);
}
