import { pipeline } from 'node:stream/promises';
import { Type } from '../../contract/index.ts';
import { TaskFailure, defineTask } from '../types.ts';
import { postgresFailure, withPostgres } from './postgresql-connection.ts';
import { COPY_SCHEMA, copyStatement, startCopy } from './postgresql-copy.ts';

/** Bytes per COPY data message: storage streams read 64 KiB at a time. */
const BATCH_BYTES = 1 << 20;

/**
 * io.kestra.plugin.jdbc.postgresql.CopyIn: streams the internal-storage file `from` into
 * `COPY table FROM STDIN` (never whole in memory) → output `rowCount`. COPY is one statement, so a
 * bad line leaves the table as it was; the failure carries PostgreSQL's message with its
 * `COPY table, line N` context.
 */
export const postgresqlCopyIn = defineTask({
  type: 'io.kestra.plugin.jdbc.postgresql.CopyIn',
  kind: 'runnable',
  title: 'Load a file into a PostgreSQL table',
  description: 'Streams a file of internal storage (`from`, a kestra:// URI) into `COPY table FROM STDIN` with the given format and options, never holding it whole in memory. COPY is one statement: a bad line leaves the table as it was, and the failure names the line.',
  properties: Type.Object({ ...COPY_SCHEMA, table: Type.String({ description: 'The table to load.' }), from: Type.String({ description: 'kestra:// URI of the file.' }) }),
  outputs: Type.Object({ rowCount: Type.Integer({ description: 'Rows loaded.' }) }),
  examples: [{ title: 'Load a downloaded CSV', code: 'id: load\ntype: io.kestra.plugin.jdbc.postgresql.CopyIn\nurl: jdbc:postgresql://127.0.0.1:5432/shop\nusername: postgres\nfrom: "{{ outputs.download.uri }}"\ntable: orders\nformat: CSV\nheader: true' }],
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
});

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
