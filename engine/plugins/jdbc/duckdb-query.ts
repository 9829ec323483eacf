import { join } from 'node:path';
import { normalizeInputFiles, uploadOutputFiles, writeInputFiles } from '../../scripts/index.ts';
import { Type } from '../../contract/index.ts';
import { TaskFailure, defineTask } from '../types.ts';
import { FETCH_OUTPUTS, FETCH_PROPERTIES, fetchTypeOf, storeRows, toPlainRow } from './fetch.ts';

/**
 * io.kestra.plugin.jdbc.duckdb.Query: runs SQL in an embedded DuckDB whose working directory holds
 * `inputFiles` (so `read_json_auto('{{ workingDir }}/products.json')` works), then collects
 * `outputFiles` and the result by `fetchType`.
 */
export const duckdbQuery = defineTask({
  type: 'io.kestra.plugin.jdbc.duckdb.Query',
  kind: 'runnable',
  title: 'Query DuckDB',
  description: "Runs `sql` in an embedded DuckDB (in memory, or the database file of `url`/`databaseUri`) whose working directory holds `inputFiles`, so `read_csv_auto('{{ workingDir }}/data.csv')` works. Files matching `outputFiles` are kept, and the result becomes outputs by `fetchType`.",
  properties: Type.Object({
    url: Type.Optional(Type.String({ description: 'jdbc:duckdb: (in memory) or jdbc:duckdb:/path/to.db.' })),
    sql: Type.String({ description: 'The SQL to run; may use {{ workingDir }}.' }),
    inputFiles: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.String()], { description: 'Files to write first: relative path → content or kestra:// URI.' })),
    outputFiles: Type.Optional(Type.Array(Type.String(), { description: 'Files to keep.' })),
    databaseUri: Type.Optional(Type.String({ description: 'kestra:// URI of a database file to open.' })),
    outputDbFile: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: 'Keep the database file (output databaseUri).' })),
    ...FETCH_PROPERTIES,
    fetchSize: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    timeZoneId: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    afterSQL: Type.Optional(Type.String()),
  }),
  outputs: Type.Object({
    ...FETCH_OUTPUTS,
    outputFiles: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Kept files: name → kestra:// URI.' })),
    databaseUri: Type.Optional(Type.String({ description: 'kestra:// URI of the database file (outputDbFile).' })),
  }),
  examples: [{ title: 'Aggregate a JSON file', code: 'id: stats\ntype: io.kestra.plugin.jdbc.duckdb.Query\ninputFiles:\n  products.json: \'[{"price": 3}, {"price": 5}]\'\nsql: SELECT avg(price) AS average FROM read_json_auto(\'{{ workingDir }}/products.json\')\nfetchType: FETCH_ONE' }],
  // `sql` and `inputFiles` may use {{ workingDir }}, known only once the directory exists.
  unrendered: ['sql', 'inputFiles'],
  async run(ctx) {
    const dir = await ctx.workingDirectory();
    const extra = { workingDir: dir };
    if (ctx.props.inputFiles) {
      const rendered = await ctx.render(ctx.props.inputFiles, extra);
      await writeInputFiles(ctx, dir, normalizeInputFiles(rendered));
    }
    let path = ':memory:';
    const url = ctx.props.url ?? 'jdbc:duckdb:';
    if (!url.startsWith('jdbc:duckdb:')) throw new TaskFailure(`url must start with 'jdbc:duckdb:', got '${url}'`);
    const file = url.slice('jdbc:duckdb:'.length);
    if (ctx.props.databaseUri) {
      path = join(dir, 'database.duckdb');
      await ctx.storage.download(ctx.props.databaseUri, path);
    } else if (file && file !== ':memory:') {
      path = file;
    } else if (flag(ctx.props.outputDbFile)) {
      path = join(dir, 'database.duckdb');
    }
    const sql = await ctx.renderString(ctx.props.sql, extra);
    const fetchType = fetchTypeOf(ctx.props);
    // Loaded on the first DuckDB task: the native library costs tens of MB that most processes never use.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    const outputs: Record<string, unknown> = {};
    try {
      // DuckDB resolves relative file names against the process cwd: point it at the task's directory.
      await connection.run(`SET file_search_path = '${dir.replace(/'/g, "''")}'`);
      const statements = await connection.extractStatements(sql);
      let rows: Record<string, unknown>[] = [];
      for (let i = 0; i < statements.count; i++) {
        const prepared = await statements.prepare(i);
        if (i === statements.count - 1 && ctx.props.parameters) prepared.bind(ctx.props.parameters as never);
        const reader = await prepared.runAndReadAll();
        if (i === statements.count - 1) rows = reader.getRowObjectsJS().map(toPlainRow);
      }
      if (fetchType === 'FETCH_ONE') outputs.row = rows[0] ?? null;
      if (fetchType === 'FETCH') outputs.rows = rows;
      if (fetchType === 'STORE') outputs.uri = await storeRows(ctx, rows);
      if (fetchType !== 'NONE') outputs.size = rows.length;
      ctx.logger.debug(`DuckDB ran ${statements.count} statement(s), last returned ${rows.length} row(s)`);
    } catch (err) {
      if (err instanceof TaskFailure) throw err;
      throw new TaskFailure(`DuckDB: ${(err as Error).message}`, { cause: err });
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    if (ctx.props.outputFiles?.length) outputs.outputFiles = await uploadOutputFiles(ctx, dir, ctx.props.outputFiles);
    if (flag(ctx.props.outputDbFile) && path !== ':memory:') outputs.databaseUri = await ctx.storage.putFile('database.duckdb', { file: path });
    return { outputs };
  },
});

function flag(value: boolean | string | undefined): boolean {
  return value === true || value === 'true';
}
