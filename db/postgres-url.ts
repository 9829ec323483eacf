/** PostgreSQL URLs as messages may show them: without the driver, so printing one loads nothing. */

/** `host:port/database` of a PostgreSQL URL: what error messages may show (never the password). */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${database ? `/${database}` : ''}`;
  } catch {
    // Not WHATWG-parsable (e.g. several hosts): drop everything up to the last '@'.
    return url.replace(/^[a-z]+:\/\//i, '').replace(/^.*@/, '');
  }
}
