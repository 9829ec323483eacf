/**
 * PostgreSQL JDBC URLs as pgjdbc reads them (`jdbc:postgresql://host:port/db?user=…&sslmode=…`),
 * turned into the connection settings a Node driver needs.
 */

export interface JdbcHost {
  host: string;
  port: number;
}

export interface PostgresJdbcTarget {
  hosts: JdbcHost[];
  /** Empty when the URL names none: the server then uses the user name, as pgjdbc does. */
  database: string;
  /** Every `?key=value` parameter, decoded (pgjdbc's keys: user, password, sslmode, connectTimeout, …). */
  params: Record<string, string>;
}

const PREFIX = 'jdbc:postgresql:';
const DEFAULT_PORT = 5432;

/** A URL that is not a PostgreSQL JDBC URL; the message names the URL with its password hidden. */
export class JdbcUrlError extends Error {
  override readonly name = 'JdbcUrlError';
  constructor(url: string, reason: string) {
    super(`invalid PostgreSQL JDBC url '${redactJdbcUrl(url)}': ${reason} (expected jdbc:postgresql://host:port/database?user=…&password=…)`);
  }
}

/**
 * Parses `jdbc:postgresql:db`, `jdbc:postgresql://host/db`, `jdbc:postgresql://host:port/db`,
 * `jdbc:postgresql://[::1]:5432/db` and several hosts (`h1:5432,h2:5433`), with `?key=value&…`.
 */
export function parsePostgresJdbcUrl(url: string): PostgresJdbcTarget {
  if (typeof url !== 'string' || !url.startsWith(PREFIX)) throw new JdbcUrlError(String(url), `it must start with '${PREFIX}'`);
  const rest = url.slice(PREFIX.length);
  const queryAt = rest.indexOf('?');
  const path = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const params = queryAt === -1 ? {} : parseParams(url, rest.slice(queryAt + 1));

  if (!path.startsWith('//')) {
    // jdbc:postgresql:database (or jdbc:postgresql:/): localhost, default port.
    return { hosts: [{ host: 'localhost', port: DEFAULT_PORT }], database: decode(url, path.replace(/^\//, '')), params };
  }
  const slash = path.indexOf('/', 2);
  const authority = slash === -1 ? path.slice(2) : path.slice(2, slash);
  const database = slash === -1 ? '' : decode(url, path.slice(slash + 1));
  if (!authority) throw new JdbcUrlError(url, 'no host');
  if (authority.includes('@')) throw new JdbcUrlError(url, "credentials go in '?user=…&password=…' or the username/password properties, not before the host");
  const hosts = authority.split(',').map((part) => parseHost(url, part));
  return { hosts, database, params };
}

/** The URL with the value of any `password` parameter replaced by `***`, safe for messages. */
export function redactJdbcUrl(url: string): string {
  return url.replace(/([?&]password=)[^&]*/gi, '$1***');
}

function parseHost(url: string, part: string): JdbcHost {
  const bracketed = /^\[([^\]]+)\](?::(\d*))?$/.exec(part);
  const plain = /^([^:[\]]+)(?::(\d*))?$/.exec(part);
  const match = bracketed ?? plain;
  if (!match) throw new JdbcUrlError(url, `bad host '${part}'`);
  const port = match[2] ? Number(match[2]) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new JdbcUrlError(url, `bad port '${match[2]}'`);
  return { host: match[1], port };
}

function parseParams(url: string, query: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decode(url, eq === -1 ? pair : pair.slice(0, eq));
    params[key] = eq === -1 ? '' : decode(url, pair.slice(eq + 1));
  }
  return params;
}

function decode(url: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new JdbcUrlError(url, `bad percent-encoding in '${text}'`);
  }
}
