import { and, eq, gt, lte, sql } from 'drizzle-orm';
import { dashboardSessions } from './schema.ts';
import type { Db } from './types.ts';

/**
 * The stored side of logged-in dashboard sessions: one row per session, keyed by a digest of its
 * nonce (the table never holds what a cookie carries). The server's `Sessions` signs and checks
 * cookies; this only keeps the rows that make logout and expiry outlive a restart.
 */
export class DashboardSessionRows {
  constructor(private readonly db: Db) {}

  /** Stores a session until `expiresAt` (ISO), sweeping expired ones first. */
  async add(id: string, userName: string, expiresAt: string): Promise<void> {
    await this.db.delete(dashboardSessions).where(lte(dashboardSessions.expiresAt, sql`now()`));
    await this.db.insert(dashboardSessions).values({ id, userName, expiresAt });
  }

  /** True while the session's row exists and has not expired. */
  async alive(id: string): Promise<boolean> {
    const [row] = await this.db
      .select({ id: dashboardSessions.id })
      .from(dashboardSessions)
      .where(and(eq(dashboardSessions.id, id), gt(dashboardSessions.expiresAt, sql`now()`)))
      .limit(1);
    return row !== undefined;
  }

  /** Deletes the session's row (logout). */
  async remove(id: string): Promise<void> {
    await this.db.delete(dashboardSessions).where(eq(dashboardSessions.id, id));
  }
}
