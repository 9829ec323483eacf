import { closeSync, openSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskPlugin } from '../types.ts';
import { postgresFailure, withPostgres } from './postgresql-connection.ts';
import { COPY_SCHEMA, copyStatement, startCopy, type CopyProps } from './postgresql-copy.ts';

interface CopyOutProps extends CopyProps {
  sql?: string;
}

const EXTENSIONS = { CSV: 'csv', TEXT: 'txt', BINARY: 'bin' } as const;

/**
 * io.kestra.plugin.jdbc.postgresql.CopyOut: `COPY (sql) TO STDOUT` (or `COPY table …`) into a file
 * in internal storage → outputs `uri` and `rowCount`.
 */
export const postgresqlCopyOut: TaskPlugin<CopyOutProps> = {
  type: 'io.kestra.plugin.jdbc.postgresql.CopyOut',
  kind: 'runnable',
  title: 'Copy a PostgreSQL query or table to a file',
  properties: { ...COPY_SCHEMA, sql: { type: 'string' } },
  async run(ctx) {
    const sql = ctx.props.sql?.trim() ? ctx.props.sql : undefined;
    const statement = copyStatement(ctx.props, { query: sql }, 'TO STDOUT');
    const path = join(await ctx.workingDirectory(), `copy-out.${EXTENSIONS[ctx.props.format ?? 'TEXT']}`);
    const rowCount = await withPostgres(ctx, async (session) => {
      ctx.logger.debug(`Starting query: ${statement}`);
      const fd = openSync(path, 'w');
      try {
        const { stream, completion } = await startCopy(session, statement, (query) => query.readable());
        // Written synchronously from 'data': the stream never fills, so postgres.js never pauses its
        // socket — a socket paused on the last chunk would never deliver the end of the COPY.
        await new Promise<void>((resolve, reject) => {
          stream.on('data', (chunk: Buffer) => writeSync(fd, chunk));
          stream.once('end', resolve);
          stream.once('error', reject);
          completion.catch(reject);
        });
        return await completion;
      } catch (error) {
        throw postgresFailure(error);
      } finally {
        closeSync(fd);
      }
    });
    const uri = await ctx.storage.putFile(`copy-out.${EXTENSIONS[ctx.props.format ?? 'TEXT']}`, { file: path });
    await rm(path, { force: true });
    return { outputs: { uri, rowCount } };
  },
};
