import { execFile } from 'node:child_process';
import { mkdir, rename, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { postgresqlCopyIn } from '../engine/plugins/jdbc/postgresql-copy-in.ts';
import { createTempDirTaskContext } from '../engine/scripts/temp-dir-task-context.ts';
import { createTestPostgresDatabase } from '../test/support/databases.ts';
import { TAXI_COLUMNS, writeTaxiCsv } from '../test/support/taxi-data.ts';
import { median, printBench } from './report.ts';

const exec = promisify(execFile);
const ROWS = 1_000_000;
const ROUNDS = 3;
const COLUMNS = TAXI_COLUMNS.yellow;
/** Bump when the generator changes, so a stale cached file is not reused. */
const FILE_VERSION = 1;

/**
 * copyin_vs_psql: CopyIn of a 1M-row yellow taxi CSV (header, 18 columns) from internal storage
 * into an empty table, against `psql \copy` of the same file into the same table shape; rows/s,
 * median of 3 alternating rounds. Goal: ours ≥ 0.9 × psql.
 */
export async function run(): Promise<void> {
  const file = await benchFile();
  const database = await createTestPostgresDatabase();
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const context = await createTempDirTaskContext({
    url: jdbcUrl(database.url),
    username: 'postgres',
    table: 'yellow_staging',
    format: 'CSV',
    header: true,
    columns: [...COLUMNS],
    from: '',
  });
  try {
    await sql.unsafe(`CREATE TABLE yellow_staging (
      VendorID INT, tpep_pickup_datetime TIMESTAMP, tpep_dropoff_datetime TIMESTAMP, passenger_count DOUBLE PRECISION,
      trip_distance DOUBLE PRECISION, RatecodeID DOUBLE PRECISION, store_and_fwd_flag TEXT, PULocationID INT,
      DOLocationID INT, payment_type INT, fare_amount DOUBLE PRECISION, extra DOUBLE PRECISION, mta_tax DOUBLE PRECISION,
      tip_amount DOUBLE PRECISION, tolls_amount DOUBLE PRECISION, improvement_surcharge DOUBLE PRECISION,
      total_amount DOUBLE PRECISION, congestion_surcharge DOUBLE PRECISION, filename TEXT, unique_row_id TEXT)`);
    context.ctx.props.from = await context.ctx.storage.putFile('yellow_tripdata_bench.csv', { file });

    const ours: number[] = [];
    const psql: number[] = [];
    const copyIn = async () => {
      const started = performance.now();
      const result = await postgresqlCopyIn.run(context.ctx as never);
      const seconds = (performance.now() - started) / 1000;
      if (result?.outputs?.rowCount !== ROWS) throw new Error(`CopyIn copied ${String(result?.outputs?.rowCount)} rows, expected ${ROWS}`);
      ours.push(ROWS / seconds);
    };
    const psqlCopy = async () => {
      const started = performance.now();
      await exec('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', database.url, '-c',
        `\\copy yellow_staging (${COLUMNS.join(', ')}) FROM '${file}' CSV HEADER`]);
      const seconds = (performance.now() - started) / 1000;
      psql.push(ROWS / seconds);
    };
    // Warm-up of both (server caches, JIT), then alternating rounds on an emptied table.
    for (const round of [0, ...Array.from({ length: ROUNDS }, (_, i) => i + 1)]) {
      for (const step of round % 2 ? [copyIn, psqlCopy] : [psqlCopy, copyIn]) {
        await sql`TRUNCATE yellow_staging`;
        await sql`CHECKPOINT`;
        await step();
        if (round === 0) (step === copyIn ? ours : psql).pop();
      }
    }
    const oursRate = median(ours);
    const psqlRate = median(psql);
    printBench({
      name: 'copyin_vs_psql',
      ours: oursRate,
      baseline: psqlRate,
      unit: 'rows/s',
      goal: 'ratio>=0.9',
      goalMet: oursRate / psqlRate >= 0.9,
    });
  } finally {
    await context.cleanup();
    await sql.end({ timeout: 5 });
    await database.drop();
  }
}

/** The 1M-row file, generated once and cached under the OS temp dir. */
async function benchFile(): Promise<string> {
  const dir = join(tmpdir(), 'baton-bench-copyin');
  const file = join(dir, `yellow-${ROWS}-v${FILE_VERSION}.csv`);
  if (await stat(file).then((s) => s.size > 0, () => false)) return file;
  await mkdir(dir, { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  await writeTaxiCsv(partial, { taxi: 'yellow', year: 2019, month: 1, rows: ROWS });
  await rename(partial, file);
  return file;
}

function jdbcUrl(url: string): string {
  const u = new URL(url);
  return `jdbc:postgresql://${u.hostname}:${u.port || 5432}${u.pathname}`;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
