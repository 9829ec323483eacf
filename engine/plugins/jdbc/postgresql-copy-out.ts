import { closeSync, openSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';
import { postgresFailure, withPostgres } from './postgresql-connection.ts';
import { COPY_SCHEMA, copyStatement, startCopy } from './postgresql-copy.ts';

const EXTENSIONS = { CSV: 'csv', TEXT: 'txt', BINARY: 'bin' } as const;

/**
 * io.kestra.plugin.jdbc.postgresql.CopyOut: `COPY (sql) TO STDOUT` (or `COPY table …`) into a file
 * in internal storage → outputs `uri` and `rowCount`.
 */
export const postgresqlCopyOut = defineTask({
  type: 'io.kestra.plugin.jdbc.postgresql.CopyOut',
  kind: 'runnable',
  title: 'Copy a PostgreSQL query or table to a file',
  description: "Runs `COPY (sql) TO STDOUT` (or `COPY table TO STDOUT`) and stores the result as a file in internal storage, in the COPY format asked for; outputs its `uri` and `rowCount`.",
  properties: Type.Object({ ...COPY_SCHEMA, sql: Type.Optional(Type.String({ description: 'The query to copy; else `table`.' })) }),
  outputs: Type.Object({ uri: Type.String({ description: 'kestra:// URI of the file.' }), rowCount: Type.Integer({ description: 'Rows copied.' }) }),
  examples: [{ title: 'Export a query as CSV', code: 'id: export\ntype: io.kestra.plugin.jdbc.postgresql.CopyOut\nurl: jdbc:postgresql://127.0.0.1:5432/shop\nusername: postgres\nsql: SELECT * FROM orders\nformat: CSV\nheader: true' }],
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
});
