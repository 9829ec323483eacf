import type { Limits } from '../config/index.ts';
import { throttleKey } from './client-address.ts';

/** What was tried: a dashboard login or an API token. */
export type AuthKind = 'login' | 'api-token';

interface Entry {
  failures: number;
  /** When the first failure still counted happened; failures are forgotten `authLockoutMs` after it. */
  since: number;
  lockedUntil: number;
  /** When an attempt refused during the lockout was last logged. */
  refusalLoggedAt?: number;
}

/** Attempts refused during a lockout are logged at most this often per address (a flood would flood the log). */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

/** Addresses tracked at most: beyond, expired entries go first, then the oldest not locked out. */
const MAX_ADDRESSES = 10_000;

/** What the security counters of /metrics count (this process, since it started). */
export class SecurityCounters {
  readonly authFailures: Record<AuthKind, number> = { login: 0, 'api-token': 0 };
  /** Addresses locked out. */
  lockouts = 0;
  /** Attempts refused because their address was locked out. */
  lockedAttempts = 0;
  /** Verified pushes that led to no sync: a delivery id seen before, or a head already live. */
  readonly pushesSkipped = { 'duplicate-delivery': 0, 'head-unchanged': 0 };
}

/**
 * Failed logins and API tokens, per client address: after `authFailures` failures within
 * `authLockoutMs` the address is locked out for `authLockoutMs` (every attempt refused, right or
 * wrong, so a lockout is no oracle). Per address, so nobody can lock the admin out from elsewhere;
 * IPv6 counts per /64. In memory: each server process counts its own.
 */
export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limits: Pick<Limits, 'authFailures' | 'authLockoutMs'>,
    readonly counters = new SecurityCounters(),
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds the address must still wait (0 when it may try), and whether to log this refusal. */
  lockedFor(address: string): { lockedMs: number; log: boolean } {
    const entry = this.entries.get(throttleKey(address));
    const now = this.now();
    const left = entry ? entry.lockedUntil - now : 0;
    if (!entry || left <= 0) return { lockedMs: 0, log: false };
    this.counters.lockedAttempts++;
    const log = entry.refusalLoggedAt === undefined || now - entry.refusalLoggedAt >= REFUSAL_LOG_INTERVAL_MS;
    if (log) entry.refusalLoggedAt = now;
    return { lockedMs: left, log };
  }

  /** Counts a failure; says how many the address has and whether this one locked it out. */
  fail(address: string, kind: AuthKind): { failures: number; lockedMs: number } {
    this.counters.authFailures[kind]++;
    const key = throttleKey(address);
    const now = this.now();
    let entry = this.entries.get(key);
    if (!entry || now - entry.since > this.limits.authLockoutMs) {
      entry = { failures: 0, since: now, lockedUntil: entry?.lockedUntil ?? 0 };
    }
    entry.failures++;
    const failures = entry.failures;
    let lockedMs = 0;
    if (failures >= this.limits.authFailures) {
      entry.lockedUntil = now + this.limits.authLockoutMs;
      entry.failures = 0;
      entry.since = now;
      lockedMs = this.limits.authLockoutMs;
      this.counters.lockouts++;
    }
    // Re-inserted: Map order is then oldest activity first, which eviction relies on.
    this.entries.delete(key);
    this.makeRoom(now);
    this.entries.set(key, entry);
    return { failures, lockedMs };
  }

  private makeRoom(now: number): void {
    if (this.entries.size < MAX_ADDRESSES) return;
    for (const [key, entry] of this.entries) {
      if (entry.lockedUntil <= now && now - entry.since > this.limits.authLockoutMs) this.entries.delete(key);
    }
    if (this.entries.size < MAX_ADDRESSES) return;
    for (const [key, entry] of this.entries) {
      if (entry.lockedUntil <= now) {
        this.entries.delete(key);
        return;
      }
    }
    this.entries.delete(this.entries.keys().next().value!);
  }
}

/** "3 minutes" for a lockout message. */
export function waitText(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  return ms < 60_000 ? `${Math.ceil(ms / 1000)} seconds` : `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
