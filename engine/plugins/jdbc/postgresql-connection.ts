/**
 * One PostgreSQL connection per task run (postgres.js, `max: 1`), opened from Kestra's connection
 * properties and always closed; a kill or timeout cancels the running statement. Failures become
 * TaskFailure with PostgreSQL's own message, in the shape pgjdbc prints it (ERROR / Detail / Hint /
 * Position / Where), so users read what they would read in Kestra.
 */
import type postgres from 'postgres';
import { Type, type Static } from '../../contract/index.ts';
import { TaskFailure, type TaskContext } from '../types.ts';
import { JdbcUrlError, parsePostgresJdbcUrl, redactJdbcUrl } from './jdbc-url.ts';
import { lineAndColumn } from './postgresql-statements.ts';
import { kestraTypeParsers, registerArrayTypes } from './postgresql-values.ts';

export const SSL_MODES = ['DISABLE', 'ALLOW', 'PREFER', 'REQUIRE', 'VERIFY_CA', 'VERIFY_FULL'] as const;

/** Connection properties shared by every PostgreSQL task (Kestra's PostgresConnectionInterface). */
export const POSTGRES_CONNECTION_SCHEMA = {
  url: Type.Optional(Type.String({ description: 'The JDBC URL, jdbc:postgresql://host:port/database.' })),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  ssl: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: 'Connect with TLS.' })),
  sslMode: Type.Optional(Type.String({ description: `One of ${SSL_MODES.join(', ')}.` })),
  sslRootCert: Type.Optional(Type.String({ description: 'PEM of the CA to trust.' })),
  sslCert: Type.Optional(Type.String({ description: 'PEM of the client certificate.' })),
  sslKey: Type.Optional(Type.String({ description: 'PEM of the client key.' })),
  sslKeyPassword: Type.Optional(Type.String()),
  timeZoneId: Type.Optional(Type.String({ description: 'Zone for dates without one.' })),
};

const PostgresConnection = Type.Object(POSTGRES_CONNECTION_SCHEMA);
export type PostgresConnectionProps = Static<typeof PostgresConnection>;

export type PostgresSql = postgres.Sql<Record<string, never>>;

/** What a task may do with its connection: run statements, register the running one for kill. */
export interface PostgresSession {
  sql: PostgresSql;
  /** Marks `query` as the one a kill must cancel; returns it. */
  track<Q extends { cancel(): unknown }>(query: Q): Q;
  /** Where the connection goes, for messages (no password). */
  describe: string;
}

/** Opens the connection, runs `work`, closes it whatever happens. */
export async function withPostgres<T>(ctx: TaskContext<PostgresConnectionProps>, work: (session: PostgresSession) => Promise<T>): Promise<T> {
  const options = connectionOptions(ctx);
  // The driver is loaded by the first task that connects, not by every process that could run one.
  const { default: connect } = await import('postgres');
  const sql = connect({
    ...options.settings,
    max: 1,
    prepare: false,
    onnotice: (notice) => ctx.logger.debug(`${notice.severity ?? 'NOTICE'}: ${notice.message}`),
    types: kestraTypeParsers(ctx.props.timeZoneId ?? Intl.DateTimeFormat().resolvedOptions().timeZone),
  }) as unknown as PostgresSql;
  let running: { cancel(): unknown } | undefined;
  const onAbort = () => {
    running?.cancel();
    void sql.end({ timeout: 0 });
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (ctx.signal.aborted) throw new TaskFailure('the task was stopped before it connected');
    await registerArrayTypes(sql as unknown as Parameters<typeof registerArrayTypes>[0]);
    return await work({
      sql,
      track: (query) => ((running = query), query),
      describe: options.describe,
    });
  } catch (error) {
    if (ctx.signal.aborted) throw new TaskFailure(`stopped: ${stoppedReason(ctx.signal)}`, { cause: error });
    throw asConnectionFailure(error, options.describe);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await sql.end({ timeout: 5 }).catch(() => {});
  }
}

interface ConnectionOptions {
  settings: postgres.Options<Record<string, never>>;
  describe: string;
}

/**
 * Kestra's order: `username`/`password` properties first, then the URL's `user`/`password`
 * parameters, which win (pgjdbc reads the URL after the properties).
 */
function connectionOptions(ctx: TaskContext<PostgresConnectionProps>): ConnectionOptions {
  const { url } = ctx.props;
  if (!url) throw new TaskFailure("'url' is required (jdbc:postgresql://host:port/database); set it on the task or in pluginDefaults");
  let target;
  try {
    target = parsePostgresJdbcUrl(url);
  } catch (error) {
    if (error instanceof JdbcUrlError) throw new TaskFailure(`url: ${error.message}`, { cause: error });
    throw error;
  }
  const params = target.params;
  const user = params.user ?? ctx.props.username;
  const password = params.password ?? ctx.props.password;
  const connectTimeout = Number(params.connectTimeout ?? 10);
  const settings: postgres.Options<Record<string, never>> = {
    // postgres.js takes arrays for several hosts (tried in order), though its types say one.
    host: (target.hosts.length === 1 ? target.hosts[0].host : target.hosts.map((h) => h.host)) as string,
    port: (target.hosts.length === 1 ? target.hosts[0].port : target.hosts.map((h) => h.port)) as number,
    database: target.database || user || undefined,
    username: user,
    password: password ?? '',
    ssl: sslOption(ctx.props, params, url),
    connect_timeout: connectTimeout > 0 ? connectTimeout : undefined,
    connection: {
      application_name: params.ApplicationName ?? 'baton',
      ...(params.currentSchema ? { search_path: params.currentSchema } : {}),
      ...(params.options ? { options: params.options } : {}),
    },
    // Array types are learned by registerArrayTypes once connected (postgres.js's own way can end the process).
    fetch_types: false,
  };
  const hosts = target.hosts.map((h) => `${h.host}:${h.port}`).join(',');
  return { settings, describe: `${hosts}/${target.database || user || ''} (${redactJdbcUrl(url)})` };
}

type SslOption = postgres.Options<Record<string, never>>['ssl'];

/** pgjdbc's sslmode (URL `sslmode`, or the `ssl`/`sslMode` properties) as postgres.js `ssl`. */
function sslOption(props: PostgresConnectionProps, params: Record<string, string>, url: string): SslOption {
  const sslOn = props.ssl === true || String(props.ssl) === 'true' || params.ssl === 'true' || params.ssl === '';
  const mode = (params.sslmode ?? (props.sslMode ? props.sslMode.toLowerCase().replace('_', '-') : undefined) ?? (sslOn ? 'verify-full' : 'prefer')).toLowerCase();
  const certs = {
    ...(props.sslRootCert ? { ca: props.sslRootCert } : {}),
    ...(props.sslCert ? { cert: props.sslCert } : {}),
    ...(props.sslKey ? { key: props.sslKey } : {}),
    ...(props.sslKeyPassword ? { passphrase: props.sslKeyPassword } : {}),
  };
  const hasCerts = Object.keys(certs).length > 0;
  switch (mode) {
    case 'disable':
    case 'allow':
      return false;
    case 'prefer':
      return hasCerts ? { rejectUnauthorized: false, ...certs } : 'prefer';
    case 'require':
      return hasCerts ? { rejectUnauthorized: false, ...certs } : 'require';
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined, ...certs };
    case 'verify-full':
      return { rejectUnauthorized: true, ...certs };
    default:
      throw new TaskFailure(`url: invalid sslmode '${mode}' in '${redactJdbcUrl(url)}' (expected disable, allow, prefer, require, verify-ca or verify-full)`);
  }
}

/** Marks a database error as coming from `sql` at `offset` of the task's whole SQL, for its line. */
export interface StatementSite {
  /** The whole SQL as the task rendered it. */
  sql: string;
  /** Offset of the failing statement in it. */
  offset: number;
  /** e.g. "statement 2 of 3". */
  label?: string;
}

/**
 * A PostgreSQL error as pgjdbc prints it: `ERROR: message`, then Detail, Hint, Position, Where,
 * plus the line and column in the task's SQL when the server gave a position. Anything else (a
 * lost connection, a kill) is returned as it is, for `withPostgres` to describe.
 */
export function postgresFailure(error: unknown, site?: StatementSite): unknown {
  const e = error as Partial<postgres.PostgresError> & { name?: string; message?: string };
  if (e?.name !== 'PostgresError') return error;
  const lines = [`${e.severity ?? 'ERROR'}: ${e.message}`];
  if (e.detail) lines.push(`  Detail: ${e.detail}`);
  if (e.hint) lines.push(`  Hint: ${e.hint}`);
  if (e.position) {
    const at = site ? lineAndColumn(site.sql, site.offset + Number(e.position) - 1) : undefined;
    lines.push(`  Position: ${e.position}${at ? ` (line ${at.line}, column ${at.column} of the SQL${site?.label ? `, ${site.label}` : ''})` : ''}`);
  } else if (site?.label) {
    lines.push(`  In: ${site.label} (line ${lineAndColumn(site.sql, site.offset).line} of the SQL)`);
  }
  if (e.where) lines.push(`  Where: ${e.where}`);
  return new TaskFailure(lines.join('\n'), { cause: error });
}

/** Connection-level failures (refused, unknown host, timeout) name where the task tried to connect. */
function asConnectionFailure(error: unknown, where: string): unknown {
  if (error instanceof TaskFailure) return error;
  const e = error as { name?: string; code?: string; message?: string };
  if (e?.name === 'PostgresError') return postgresFailure(error);
  const code = e?.code ?? '';
  if (/^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|CONNECT_TIMEOUT|CONNECTION_\w+)$/.test(code)) {
    return new TaskFailure(`cannot reach PostgreSQL at ${where}: ${e.message ?? code}`, { cause: error });
  }
  return new TaskFailure(e?.message ?? String(error), { cause: error });
}

function stoppedReason(signal: AbortSignal): string {
  const reason = signal.reason as { message?: string } | string | undefined;
  return typeof reason === 'string' ? reason : (reason?.message ?? 'killed');
}
