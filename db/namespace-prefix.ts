import { eq, like, or, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { escapeLike } from './like.ts';

/**
 * Kestra's namespace filter: `namespace` itself and every namespace below it (`a.b` matches `a.b`
 * and `a.b.c`, never `a.bc`). The one copy every search uses; the LIKE prefix is literal text.
 */
export function inNamespaceOrBelow(column: PgColumn, namespace: string): SQL {
  return or(eq(column, namespace), like(column, `${escapeLike(namespace)}.%`))!;
}
