import { Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';
import { FETCH_OUTPUTS, FETCH_PROPERTIES, fetchTypeOf } from './fetch.ts';
import { POSTGRES_CONNECTION_SCHEMA, withPostgres } from './postgresql-connection.ts';
import { ACCEPTED_QUERY_TUNING } from './postgresql-query.ts';
import { inTransaction, runStatements, type StatementOutput } from './postgresql-statement-runner.ts';

/**
 * io.kestra.plugin.jdbc.postgresql.Queries: runs every statement of `sql` in order, in one
 * transaction unless `transaction: false`; output `outputs` holds one entry (`row`, `rows`, `uri`,
 * `size` by `fetchType`) per statement that returned rows.
 */
export const postgresqlQueries = defineTask({
  type: 'io.kestra.plugin.jdbc.postgresql.Queries',
  kind: 'runnable',
  title: 'Run several PostgreSQL statements',
  description: 'Runs every statement of `sql` in order on its own PostgreSQL connection, in one transaction unless `transaction: false`. The output `outputs` holds one entry (`row`, `rows`, `uri`, `size` by `fetchType`) per statement that returned rows.',
  properties: Type.Object({
    ...POSTGRES_CONNECTION_SCHEMA,
    sql: Type.String({ description: 'The statements to run.' }),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Values for :name placeholders.' })),
    transaction: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: 'Run them in one transaction (default true).' })),
    ...FETCH_PROPERTIES,
    ...ACCEPTED_QUERY_TUNING,
  }),
  outputs: Type.Object({ outputs: Type.Array(Type.Object(FETCH_OUTPUTS), { description: 'One entry per statement that returned rows.' }) }),
  examples: [{ title: 'Create and fill a table', code: 'id: setup\ntype: io.kestra.plugin.jdbc.postgresql.Queries\nurl: jdbc:postgresql://127.0.0.1:5432/shop\nusername: postgres\nsql: |\n  CREATE TABLE IF NOT EXISTS seen (day date);\n  INSERT INTO seen VALUES (current_date);\n  SELECT count(*) AS n FROM seen;\nfetchType: FETCH_ONE' }],
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
});
