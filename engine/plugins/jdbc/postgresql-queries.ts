import type { TaskPlugin } from '../types.ts';
import { FETCH_TYPES, fetchTypeOf } from './fetch.ts';
import { POSTGRES_CONNECTION_SCHEMA, withPostgres } from './postgresql-connection.ts';
import { ACCEPTED_QUERY_TUNING, type PostgresQueryProps } from './postgresql-query.ts';
import { inTransaction, runStatements, type StatementOutput } from './postgresql-statement-runner.ts';

interface PostgresQueriesProps extends Omit<PostgresQueryProps, 'afterSQL'> {
  transaction?: boolean | string;
}

/**
 * io.kestra.plugin.jdbc.postgresql.Queries: runs every statement of `sql` in order, in one
 * transaction unless `transaction: false`; output `outputs` holds one entry (`row`, `rows`, `uri`,
 * `size` by `fetchType`) per statement that returned rows.
 */
export const postgresqlQueries: TaskPlugin<PostgresQueriesProps> = {
  type: 'io.kestra.plugin.jdbc.postgresql.Queries',
  kind: 'runnable',
  title: 'Run several PostgreSQL statements',
  properties: {
    ...POSTGRES_CONNECTION_SCHEMA,
    sql: { type: 'string' },
    parameters: { type: 'object' },
    transaction: { type: ['boolean', 'string'] },
    fetchType: { enum: [...FETCH_TYPES] },
    fetch: { type: 'boolean' },
    fetchOne: { type: 'boolean' },
    store: { type: 'boolean' },
    ...ACCEPTED_QUERY_TUNING,
  },
  required: ['sql'],
  async run(ctx) {
    const fetchType = fetchTypeOf(ctx.props);
    const transaction = ctx.props.transaction !== false && ctx.props.transaction !== 'false';
    const outputs: StatementOutput[] = [];
    await withPostgres(ctx, (session) =>
      inTransaction(session, transaction, () =>
        runStatements(ctx, session, {
          sql: ctx.props.sql,
          fetchType,
          parameters: ctx.props.parameters,
          onResult: (result) => {
            if (result.returnsRows) outputs.push(result.output);
          },
        }),
      ),
    );
    return { outputs: { outputs } };
  },
};
