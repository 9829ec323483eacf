/**
 * Suites that need a real service (PostgreSQL, dockerd, Chromium, git) declare it here.
 * When the service is unreachable the suite is skipped and says why; with BATON_REQUIRE_ALL=1
 * (CI) it fails instead. Skips are recorded in each test's `meta`, which the JSON report
 * carries to bin/test.mjs for its "skipped suites" summary.
 */
import { describe, test } from 'vitest';

/** Resolves to null when the service is usable, otherwise the reason it is not. */
export type ServiceProbe = () => Promise<string | null>;

/** What bin/test.mjs prints for a suite skipped because its service was unavailable. */
export interface SkippedSuite {
  suite: string;
  service: string;
  reason: string;
}

/** The `meta` key bin/test.mjs reads; keep the two in step. */
export const SKIPPED_SUITE_META = 'batonSkippedSuite';

declare module 'vitest' {
  interface TaskMeta {
    batonSkippedSuite?: SkippedSuite;
  }
}

export interface ServiceGate {
  /** The service's name, as printed in skip reasons. */
  readonly service: string;
  /** Null when the service is usable, else the reason (probed once per test file). */
  unavailable(): Promise<string | null>;
  /** A `describe` whose tests run only when the service is usable. */
  describe(suite: string, factory: () => void): void;
}

/** Thrown by the placeholder test of a suite whose service is missing under BATON_REQUIRE_ALL=1. */
export class ServiceUnavailableError extends Error {
  constructor(
    readonly service: string,
    readonly reason: string,
  ) {
    super(`${service} is required (BATON_REQUIRE_ALL=1) but unavailable: ${reason}`);
    this.name = 'ServiceUnavailableError';
  }
}

/** True when every service is mandatory: missing ones fail their suites instead of skipping them. */
export function requireAll(): boolean {
  const value = process.env.BATON_REQUIRE_ALL ?? '';
  return value === '1' || value.toLowerCase() === 'true';
}

/** Gate suites on a service: `requireService('dockerd', probeDocker).describe('runner [docker]', () => {…})`. */
export function requireService(service: string, probe: ServiceProbe): ServiceGate {
  let probed: Promise<string | null> | undefined;
  const unavailable = () => {
    probed ??= probe().catch((error: unknown) => `probe failed: ${error instanceof Error ? error.message : String(error)}`);
    return probed;
  };
  return {
    service,
    unavailable,
    describe(suite, factory) {
      // Vitest awaits async describe factories while collecting, so the probe decides what is collected.
      describe(suite, async () => {
        const reason = await unavailable();
        if (reason === null) return factory();
        if (requireAll()) {
          test(`${service} is available`, () => {
            throw new ServiceUnavailableError(service, reason);
          });
          return;
        }
        const skipped: SkippedSuite = { suite, service, reason };
        console.warn(`skipping "${suite}": ${service} unavailable — ${reason}`);
        // Collect the tests anyway, skipped and tagged, so counts and the summary show them.
        describe(`${service} unavailable`, { skip: true, meta: { [SKIPPED_SUITE_META]: skipped } }, factory);
      });
    },
  };
}
