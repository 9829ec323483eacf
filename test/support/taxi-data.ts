/**
 * Synthetic NYC taxi trip files with the real TLC headers (yellow: 18 columns, green: 20, as the
 * 2019–2020 files of DataTalksClub/nyc-tlc-data), generated deterministically, and a small HTTP
 * server on 127.0.0.1 that serves them gzipped where the seed's flows download them from:
 * `<base>/<taxi>/<taxi>_tripdata_<yyyy>-<MM>.csv.gz`.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { requireService } from './services.ts';

export type Taxi = 'yellow' | 'green';

/** Gate for suites running the taxi flows: their extract step downloads with wget, as the course does. */
export const wgetService = requireService('wget', async () => {
  try {
    await promisify(execFile)('wget', ['--version']);
    return null;
  } catch (error) {
    return `wget is not installed: ${(error as Error).message}`;
  }
});

export const TAXI_COLUMNS: Record<Taxi, readonly string[]> = {
  yellow: [
    'VendorID', 'tpep_pickup_datetime', 'tpep_dropoff_datetime', 'passenger_count', 'trip_distance', 'RatecodeID',
    'store_and_fwd_flag', 'PULocationID', 'DOLocationID', 'payment_type', 'fare_amount', 'extra', 'mta_tax',
    'tip_amount', 'tolls_amount', 'improvement_surcharge', 'total_amount', 'congestion_surcharge',
  ],
  green: [
    'VendorID', 'lpep_pickup_datetime', 'lpep_dropoff_datetime', 'store_and_fwd_flag', 'RatecodeID', 'PULocationID',
    'DOLocationID', 'passenger_count', 'trip_distance', 'fare_amount', 'extra', 'mta_tax', 'tip_amount',
    'tolls_amount', 'ehail_fee', 'improvement_surcharge', 'total_amount', 'payment_type', 'trip_type',
    'congestion_surcharge',
  ],
};

export interface TaxiMonth {
  taxi: Taxi;
  year: number;
  month: number;
  /** Data rows (the header is not counted). */
  rows: number;
  /** 1-based line of the file (the header is line 1) written with one column too many. */
  extraColumnAtLine?: number;
}

/** `yellow_tripdata_2019-01.csv`, as in the TLC releases. */
export function taxiFileName(taxi: Taxi, year: number, month: number): string {
  return `${taxi}_tripdata_${year}-${String(month).padStart(2, '0')}.csv`;
}

/** The whole CSV (header included) as text; for small files. */
export function taxiCsv(spec: TaxiMonth): string {
  const lines = [TAXI_COLUMNS[spec.taxi].join(',')];
  for (const line of taxiRows(spec)) lines.push(line);
  return lines.join('\n') + '\n';
}

/** Writes the CSV to `path` without holding it in memory (for the 1M-row benchmark file). */
export async function writeTaxiCsv(path: string, spec: TaxiMonth): Promise<void> {
  const out = createWriteStream(path);
  const done = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
  });
  let batch = TAXI_COLUMNS[spec.taxi].join(',') + '\n';
  for (const line of taxiRows(spec)) {
    batch += line + '\n';
    if (batch.length >= 1 << 20) {
      if (!out.write(batch)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      batch = '';
    }
  }
  out.end(batch);
  await done;
}

/**
 * The data lines. Every trip starts a second after the previous one, so the seed's md5 id (vendor,
 * pickup, dropoff, locations, fare, distance) is unique per row; some surcharges are empty (NULL),
 * as in the real files.
 */
export function* taxiRows(spec: TaxiMonth): Generator<string> {
  const random = mulberry32(spec.year * 100 + spec.month + (spec.taxi === 'green' ? 7919 : 0));
  const start = Date.UTC(spec.year, spec.month - 1, 1);
  for (let i = 0; i < spec.rows; i++) {
    const pickup = start + i * 1000;
    const minutes = 2 + Math.floor(random() * 40);
    const dropoff = pickup + minutes * 60_000 + Math.floor(random() * 60) * 1000;
    const vendor = 1 + Math.floor(random() * 2);
    const passengers = 1 + Math.floor(random() * 4);
    const distance = (0.3 + random() * 12).toFixed(2);
    const pu = 1 + Math.floor(random() * 263);
    const doLoc = 1 + Math.floor(random() * 263);
    const payment = 1 + Math.floor(random() * 2);
    const fare = (2.5 + Number(distance) * 2.5).toFixed(1);
    const tip = payment === 1 ? (Number(fare) * 0.2).toFixed(2) : '0';
    const congestion = i % 5 === 0 ? '' : '2.5';
    const total = (Number(fare) + 0.5 + 0.5 + Number(tip) + 0.3 + (congestion ? 2.5 : 0)).toFixed(2);
    const flag = random() < 0.01 ? 'Y' : 'N';
    const cells = spec.taxi === 'yellow'
      ? [vendor, stamp(pickup), stamp(dropoff), passengers, distance, 1, flag, pu, doLoc, payment, fare, 0.5, 0.5, tip, 0, 0.3, total, congestion]
      : [vendor, stamp(pickup), stamp(dropoff), flag, 1, pu, doLoc, passengers, distance, fare, 0.5, 0.5, tip, 0, '', 0.3, total, payment, 1, congestion];
    if (spec.extraColumnAtLine === i + 2) cells.push('unexpected');
    yield cells.join(',');
  }
}

export interface TaxiFileServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (the flows' TAXI_BASE_URL). */
  url: string;
  /** Serves `spec` gzipped at `/<taxi>/<file>.gz`. */
  publish(spec: TaxiMonth): void;
  /** Paths requested so far. */
  requests: string[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 serving published taxi files (404 for anything else). */
export async function startTaxiFileServer(): Promise<TaxiFileServer> {
  const files = new Map<string, Buffer>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    requests.push(path);
    const body = files.get(path);
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    publish(spec) {
      files.set(`/${spec.taxi}/${taxiFileName(spec.taxi, spec.year, spec.month)}.gz`, gzipSync(taxiCsv(spec)));
    },
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function stamp(millis: number): string {
  return new Date(millis).toISOString().slice(0, 19).replace('T', ' ');
}

/** A small seeded PRNG: the same file every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
