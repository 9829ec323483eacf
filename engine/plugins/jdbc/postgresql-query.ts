import type { TaskPlugin } from '../types.ts';
import { FETCH_TYPES, fetchTypeOf, type FetchType } from './fetch.ts';
import { POSTGRES_CONNECTION_SCHEMA, withPostgres, type PostgresConnectionProps } from './postgresql-connection.ts';
import { splitStatements } from './postgresql-statements.ts';
import { inTransaction, runStatements, type StatementOutput } from './postgresql-statement-runner.ts';

export interface PostgresQueryProps extends PostgresConnectionProps {
  sql: string;
  parameters?: Record<string, unknown>;
  afterSQL?: string;
  fetchType?: FetchType;
  fetch?: boolean;
  fetchOne?: boolean;
  store?: boolean;
}

/** Properties of Kestra's JDBC queries that change nothing here (rows stream as they arrive). */
export const ACCEPTED_QUERY_TUNING = {
  fetchSize: { type: ['integer', 'string'] },
  autoCommit: { type: ['boolean', 'string'] },
  connectionPooling: { type: ['boolean', 'string'] },
  connectionPoolSize: { type: ['integer', 'string'] },
} as const;

/**
 * io.kestra.plugin.jdbc.postgresql.Query: runs `sql` on its own connection. Several statements run
 * in order in one transaction (as pgjdbc runs a multi-statement string); the outputs (`row`, `rows`,
 * `uri`, `size` by `fetchType`) are those of the last statement that returned rows. `:name`
 * placeholders are bound from `parameters`; `afterSQL` runs in the same transaction.
 */
export const postgresqlQuery: TaskPlugin<PostgresQueryProps> = {
  type: 'io.kestra.plugin.jdbc.postgresql.Query',
  kind: 'runnable',
  title: 'Query PostgreSQL',
  properties: {
    ...POSTGRES_CONNECTION_SCHEMA,
    sql: { type: 'string' },
    parameters: { type: 'object' },
    afterSQL: { type: 'string' },
    fetchType: { enum: [...FETCH_TYPES] },
    fetch: { type: 'boolean' },
    fetchOne: { type: 'boolean' },
    store: { type: 'boolean' },
    ...ACCEPTED_QUERY_TUNING,
  },
  required: ['sql'],
  async run(ctx) {
    const fetchType = fetchTypeOf(ctx.props);
    const { sql, afterSQL, parameters } = ctx.props;
    const transaction = splitStatements(sql).length > 1 || Boolean(afterSQL?.trim());
    let outputs: StatementOutput = {};
    await withPostgres(ctx, (session) =>
      inTransaction(session, transaction, async () => {
        const count = await runStatements(ctx, session, {
          sql,
          fetchType,
          parameters,
          onResult: async (result) => {
            if (!result.returnsRows) return;
            // Only the last row set is the task's: a file stored for an earlier one is dropped.
            if (outputs.uri) await ctx.storage.backend.delete(outputs.uri);
            outputs = result.output;
          },
        });
        if (afterSQL?.trim()) await runStatements(ctx, session, { sql: afterSQL, fetchType: 'NONE', parameters, onResult: () => {} });
        ctx.logger.debug(`PostgreSQL ran ${count} statement(s)${outputs.size !== undefined ? `, last row set: ${outputs.size} row(s)` : ''}`);
      }),
    );
    return { outputs: fetchType === 'NONE' ? {} : { ...outputs } };
  },
};
