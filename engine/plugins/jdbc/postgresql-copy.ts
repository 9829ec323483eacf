/**
 * What CopyIn and CopyOut share (Kestra's AbstractCopy): the `COPY` options and the statement built
 * from them, and a way to learn how a postgres.js COPY stream really ended.
 */
import { Enum, Type, type Static } from '../../contract/index.ts';
import { TaskFailure } from '../types.ts';
import { POSTGRES_CONNECTION_SCHEMA, type PostgresSession } from './postgresql-connection.ts';

export const COPY_FORMATS = ['TEXT', 'CSV', 'BINARY'] as const;
export type CopyFormat = (typeof COPY_FORMATS)[number];

const names = () => Type.Optional(Type.Array(Type.String()));
const oneCharacter = () => Type.Optional(Type.String());
const bool = () => Type.Optional(Type.Union([Type.Boolean(), Type.String()]));

/** The COPY properties (connection included), Kestra's AbstractCopy. */
export const COPY_SCHEMA = {
  ...POSTGRES_CONNECTION_SCHEMA,
  table: Type.Optional(Type.String({ description: 'The table.' })),
  columns: names(),
  format: Type.Optional(Enum(COPY_FORMATS, { description: 'TEXT (default), CSV or BINARY.' })),
  oids: bool(),
  freeze: bool(),
  delimiter: oneCharacter(),
  nullString: Type.Optional(Type.String()),
  header: bool(),
  quote: oneCharacter(),
  escape: oneCharacter(),
  forceQuote: names(),
  forceNotNull: names(),
  forceNull: names(),
  encoding: Type.Optional(Type.String()),
  socketTimeout: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
};

const Copy = Type.Object(COPY_SCHEMA);
export type CopyProps = Static<typeof Copy>;

/**
 * `COPY table (cols) FROM STDIN WITH (…)` or `COPY (query) TO STDOUT WITH (…)`, option by option as
 * Kestra writes it. Table and column names go in as written (unquoted, so `VendorID` folds to
 * `vendorid` as in the CREATE TABLE that made it); option values are quoted literals.
 */
export function copyStatement(props: CopyProps, source: { query?: string }, direction: 'FROM STDIN' | 'TO STDOUT'): string {
  const parts = ['COPY'];
  if (source.query !== undefined) {
    parts.push(`(${source.query.trim().replace(/;\s*$/, '')})`);
  } else {
    if (!props.table?.trim()) throw new TaskFailure(direction === 'FROM STDIN' ? "'table' is required" : "either 'sql' or 'table' is required");
    parts.push(props.table.trim());
    if (props.columns?.length) parts.push(`(${props.columns.join(', ')})`);
  }
  parts.push(direction);

  const options: string[] = [];
  const format = props.format ?? 'TEXT';
  if (!COPY_FORMATS.includes(format)) throw new TaskFailure(`format: expected one of ${COPY_FORMATS.join(', ')}, got '${format}'`);
  if (format !== 'TEXT') options.push(`FORMAT ${format}`);
  if (flag(props.oids)) options.push('OIDS');
  if (flag(props.freeze)) options.push('FREEZE');
  if (props.delimiter !== undefined) options.push(`DELIMITER ${literal(character('delimiter', props.delimiter))}`);
  if (props.nullString !== undefined) options.push(`NULL ${literal(props.nullString)}`);
  if (props.header !== undefined) options.push(`HEADER ${flag(props.header) ? 'TRUE' : 'FALSE'}`);
  if (props.quote !== undefined) options.push(`QUOTE ${literal(character('quote', props.quote))}`);
  if (props.escape !== undefined) options.push(`ESCAPE ${literal(character('escape', props.escape))}`);
  if (props.forceQuote?.length) options.push(`FORCE_QUOTE ${props.forceQuote.length === 1 && props.forceQuote[0] === '*' ? '*' : `(${props.forceQuote.join(', ')})`}`);
  if (props.forceNotNull?.length) options.push(`FORCE_NOT_NULL (${props.forceNotNull.join(', ')})`);
  if (props.forceNull?.length) options.push(`FORCE_NULL (${props.forceNull.join(', ')})`);
  if (props.encoding !== undefined) options.push(`ENCODING ${literal(props.encoding)}`);
  if (options.length) parts.push(`WITH (${options.join(', ')})`);
  return parts.join(' ');
}

/**
 * Starts `statement` and resolves to `{ stream, completion }`: the COPY stream postgres.js hands
 * over, and a promise of how the COPY ended on the server — its row count, or PostgreSQL's error.
 *
 * Why not just the stream: postgres.js 3.4 settles a COPY FROM STDIN stream only on success; when
 * the server rejects the data after the last chunk was sent (a bad last line, a constraint), the
 * stream never finishes and the error is dropped (porsager/postgres#1173). The query object does
 * see both the final result and the error, so its resolve/reject are observed here.
 */
export async function startCopy<S>(session: PostgresSession, statement: string, open: (query: CopyQuery) => Promise<S>): Promise<{ stream: S; completion: Promise<number> }> {
  const query = session.track(session.sql.unsafe(statement)) as unknown as CopyQuery;
  const completion = new Promise<number>((resolve, reject) => {
    const settle = query.resolve;
    const fail = query.reject;
    query.resolve = (value) => {
      // The first resolve hands over the stream; the one after ReadyForQuery carries the result.
      if (!isStream(value)) resolve(Number((value as { count?: unknown })?.count ?? 0));
      settle(value);
    };
    query.reject = (error) => {
      reject(error);
      fail(error);
    };
  });
  completion.catch(() => {});
  const stream = await open(query);
  return { stream, completion };
}

/** The parts of a postgres.js query a COPY needs. */
export interface CopyQuery {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  writable(): Promise<NodeJS.WritableStream & { destroy(error?: Error): void }>;
  readable(): Promise<NodeJS.ReadableStream & { destroy(error?: Error): void }>;
}

function isStream(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function';
}

/** A one-byte COPY character; `\t`, `\n`, `\r` written as two characters mean the control character. */
function character(property: string, value: string): string {
  const escapes: Record<string, string> = { '\\t': '\t', '\\n': '\n', '\\r': '\r' };
  const char = escapes[value] ?? value;
  if (Buffer.byteLength(char) !== 1) throw new TaskFailure(`${property}: must be a single one-byte character, got '${value}'`);
  return char;
}

function literal(value: string): string {
  return `'${String(value).replace(/'/g, "''")}'`;
}

function flag(value: boolean | string | undefined): boolean {
  return value === true || value === 'true';
}
