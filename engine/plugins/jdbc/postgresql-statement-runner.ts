/**
 * Runs the statements of a PostgreSQL Query/Queries task one by one on the task's connection,
 * collecting each statement's rows by `fetchType` as they arrive: nothing for NONE, the first row
 * for FETCH_ONE, all rows for FETCH, a file streamed to internal storage for STORE (any size).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TaskFailure, type TaskContext } from '../types.ts';
import { RowFileWriter, toPlainRow, type FetchType } from './fetch.ts';
import { postgresFailure, type PostgresSession } from './postgresql-connection.ts';
import { bindNamedParameters, MissingParameterError, splitStatements } from './postgresql-statements.ts';

/** Kestra's per-statement output (AbstractJdbcBaseQuery.Output). */
export interface StatementOutput {
  row?: Record<string, unknown> | null;
  rows?: Record<string, unknown>[];
  uri?: string;
  size?: number;
}

export interface StatementResult {
  /** The statement returned a row set (a SELECT, or anything with RETURNING), even an empty one. */
  returnsRows: boolean;
  output: StatementOutput;
}

export interface RunStatementsOptions {
  sql: string;
  fetchType: FetchType;
  parameters?: Record<string, unknown>;
  /** Called with each statement's result, in order; a STORE file not kept is deleted. */
  onResult(result: StatementResult, index: number): Promise<void> | void;
}

/** Runs every statement of `options.sql`; a failure becomes a TaskFailure naming the statement and line. */
export async function runStatements(ctx: TaskContext<unknown>, session: PostgresSession, options: RunStatementsOptions): Promise<number> {
  const statements = splitStatements(options.sql);
  if (statements.length === 0) throw new TaskFailure("'sql' has no statement to run");
  const hasParameters = options.parameters !== undefined && Object.keys(options.parameters).length > 0;
  for (const [index, statement] of statements.entries()) {
    const label = statements.length > 1 ? `statement ${index + 1} of ${statements.length}` : undefined;
    try {
      const bound = hasParameters ? bindNamedParameters(statement.text, options.parameters!) : { text: statement.text, args: [] };
      ctx.logger.debug(`Starting query: ${bound.text}`);
      const result = await runOne(ctx, session, bound.text, bound.args, options.fetchType, index);
      await options.onResult(result, index);
    } catch (error) {
      if (error instanceof MissingParameterError) throw new TaskFailure(`parameters: ${label ? `${label}: ` : ''}${error.message}`);
      throw postgresFailure(error, { sql: options.sql, offset: statement.offset, label });
    }
  }
  return statements.length;
}

/**
 * `work` inside one transaction when `enabled` (committed at its end, rolled back on failure), as
 * pgjdbc runs a multi-statement string and as Kestra's Queries does by default.
 */
export async function inTransaction<T>(session: PostgresSession, enabled: boolean, work: () => Promise<T>): Promise<T> {
  if (!enabled) return work();
  await session.sql.unsafe('begin');
  try {
    const result = await work();
    await session.sql.unsafe('commit');
    return result;
  } catch (error) {
    await session.sql.unsafe('rollback').catch(() => {});
    throw error;
  }
}

async function runOne(
  ctx: TaskContext<unknown>, session: PostgresSession, text: string, args: unknown[], fetchType: FetchType, index: number,
): Promise<StatementResult> {
  const query = session.track(args.length ? session.sql.unsafe(text, args as never[]) : session.sql.unsafe(text));
  switch (fetchType) {
    case 'NONE': {
      const result = await query.forEach(() => {});
      return { returnsRows: hasColumns(result), output: {} };
    }
    case 'FETCH_ONE': {
      let first: Record<string, unknown> | null = null;
      const result = await query.forEach((row) => {
        if (first === null) first = toPlainRow(row);
      });
      return { returnsRows: hasColumns(result), output: { row: first, size: first ? 1 : 0 } };
    }
    case 'FETCH': {
      const rows: Record<string, unknown>[] = [];
      const result = await query.forEach((row) => void rows.push(toPlainRow(row)));
      return { returnsRows: hasColumns(result), output: { rows, size: rows.length } };
    }
    case 'STORE': {
      const path = join(await ctx.workingDirectory(), `result-${index + 1}.ion`);
      const writer = new RowFileWriter(path);
      let result;
      try {
        result = await query.forEach((row) => writer.write(row));
      } finally {
        writer.close();
      }
      if (!hasColumns(result)) {
        await rm(path, { force: true });
        return { returnsRows: false, output: {} };
      }
      const uri = await ctx.storage.putFile(index === 0 ? 'result.ion' : `result-${index + 1}.ion`, { file: path });
      await rm(path, { force: true });
      return { returnsRows: true, output: { uri, size: writer.size } };
    }
  }
}

function hasColumns(result: unknown): boolean {
  return Array.isArray((result as { columns?: unknown })?.columns);
}
