import { pipeline } from 'node:stream/promises';
import { TaskFailure, type TaskPlugin } from '../types.ts';
import { postgresFailure, withPostgres } from './postgresql-connection.ts';
import { COPY_SCHEMA, copyStatement, startCopy, type CopyProps } from './postgresql-copy.ts';

interface CopyInProps extends CopyProps {
  from: string;
}

/** Bytes per COPY data message: storage streams read 64 KiB at a time. */
const BATCH_BYTES = 1 << 20;

/**
 * io.kestra.plugin.jdbc.postgresql.CopyIn: streams the internal-storage file `from` into
 * `COPY table FROM STDIN` (never whole in memory) → output `rowCount`. COPY is one statement, so a
 * bad line leaves the table as it was; the failure carries PostgreSQL's message with its
 * `COPY table, line N` context.
 */
export const postgresqlCopyIn: TaskPlugin<CopyInProps> = {
  type: 'io.kestra.plugin.jdbc.postgresql.CopyIn',
  kind: 'runnable',
  title: 'Load a file into a PostgreSQL table',
  properties: { ...COPY_SCHEMA, from: { type: 'string' } },
  required: ['from', 'table'],
  async run(ctx) {
    const statement = copyStatement(ctx.props, {}, 'FROM STDIN');
    let source: NodeJS.ReadableStream & { destroy?(): void };
    try {
      source = await ctx.storage.stream(ctx.props.from);
    } catch (error) {
      throw new TaskFailure(`from: cannot read '${ctx.props.from}': ${(error as Error).message}`, { cause: error });
    }
    try {
      const rowCount = await withPostgres(ctx, async (session) => {
        ctx.logger.debug(`Starting query: ${statement}`);
        try {
          const { stream, completion } = await startCopy(session, statement, (query) => query.writable());
          const sent = pipeline(inBatches(source as AsyncIterable<Buffer>), stream);
          sent.catch(() => {});
          // A server error after the last chunk settles only `completion` (see startCopy).
          await Promise.race([sent, completion]);
          return await completion;
        } catch (error) {
          throw postgresFailure(error);
        }
      });
      ctx.logger.info(`Copied ${rowCount} row(s) into ${ctx.props.table}`);
      return { outputs: { rowCount } };
    } finally {
      source.destroy?.();
    }
  },
};

/**
 * The file in 1 MiB pieces: postgres.js spends its CPU per message, so 16× fewer messages cost a
 * third of the client CPU per million rows (measured 0.36 s → 0.2 s, about psql's), CPU the
 * server's COPY needs on a small machine. Memory stays bounded by one batch.
 */
async function* inBatches(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    parts.push(chunk);
    length += chunk.length;
    if (length >= BATCH_BYTES) {
      yield Buffer.concat(parts, length);
      parts = [];
      length = 0;
    }
  }
  if (length) yield Buffer.concat(parts, length);
}
