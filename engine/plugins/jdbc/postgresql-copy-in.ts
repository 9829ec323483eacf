import { pipeline } from 'node:stream/promises';
import { TaskFailure, type TaskPlugin } from '../types.ts';
import { withPostgres } from './postgresql-connection.ts';
import { postgresFailure } from './postgresql-connection.ts';
import { COPY_SCHEMA, copyStatement, startCopy, type CopyProps } from './postgresql-copy.ts';

interface CopyInProps extends CopyProps {
  from: string;
}

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
          const sent = pipeline(source, stream);
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
