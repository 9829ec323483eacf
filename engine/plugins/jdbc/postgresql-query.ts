import { Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';
import { FETCH_OUTPUTS, FETCH_PROPERTIES, fetchTypeOf } from './fetch.ts';
import { POSTGRES_CONNECTION_SCHEMA, withPostgres } from './postgresql-connection.ts';
import { splitStatements } from './postgresql-statements.ts';
import { inTransaction, runStatements, type StatementOutput } from './postgresql-statement-runner.ts';

/** Properties of Kestra's JDBC queries that change nothing here (rows stream as they arrive). */
export const ACCEPTED_QUERY_TUNING = {
  fetchSize: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  autoCommit: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
  connectionPooling: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
  connectionPoolSize: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
};

/**
 * io.kestra.plugin.jdbc.postgresql.Query: runs `sql` on its own connection. Several statements run
 * in order in one transaction (as pgjdbc runs a multi-statement string); the outputs (`row`, `rows`,
 * `uri`, `size` by `fetchType`) are those of the last statement that returned rows. `:name`
 * placeholders are bound from `parameters`; `afterSQL` runs in the same transaction.
 */
export const postgresqlQuery = defineTask({
  type: 'io.kestra.plugin.jdbc.postgresql.Query',
  kind: 'runnable',
  title: 'Query PostgreSQL',
  description: 'Runs `sql` on its own connection to PostgreSQL (`url`, `username`, `password`, TLS settings). Several statements run in order in one transaction; the result of the last statement returning rows becomes the outputs by `fetchType`: `row`, `rows`, or a stored file `uri`, with `size`. `:name` placeholders are bound from `parameters`; `afterSQL` runs in the same transaction.',
  properties: Type.Object({
    ...POSTGRES_CONNECTION_SCHEMA,
    sql: Type.String({ description: 'The SQL to run.' }),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Values for :name placeholders.' })),
    afterSQL: Type.Optional(Type.String({ description: 'SQL run after, in the same transaction.' })),
    ...FETCH_PROPERTIES,
    ...ACCEPTED_QUERY_TUNING,
  }),
  outputs: Type.Object(FETCH_OUTPUTS),
  examples: [{ title: 'Fetch one row', code: 'id: count\ntype: io.kestra.plugin.jdbc.postgresql.Query\nurl: jdbc:postgresql://127.0.0.1:5432/shop\nusername: postgres\npassword: "{{ secret(\'DB_PASSWORD\') }}"\nsql: SELECT count(*) AS n FROM orders WHERE day = :day\nparameters:\n  day: "{{ execution.startDate | date(\'yyyy-MM-dd\') }}"\nfetchType: FETCH_ONE' }],
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
});
