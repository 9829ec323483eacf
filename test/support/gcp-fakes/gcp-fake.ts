/**
 * A local FAKE of the Google Cloud endpoints Baton's GCP tasks use, on one node:http server bound to
 * 127.0.0.1: the OAuth token endpoint (`/token`), Cloud Storage (`/storage/v1`, `/upload/storage/v1`,
 * `/download/storage/v1`) and BigQuery (`/bigquery/v2`, `/upload/bigquery/v2`). Every API request
 * must carry a bearer token the OAuth fake issued. Every request is recorded.
 *
 * Point the plugins at it with `fake.env()` (BATON_GCP_STORAGE_ENDPOINT, BATON_GCP_BIGQUERY_ENDPOINT)
 * and give them `fake.serviceAccount().json`, whose `token_uri` is this server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BigQueryFake } from './bigquery-fake.ts';
import { googleError, type FakeRequest, type FakeResponse } from './fake-api.ts';
import { GcsFake } from './gcs-fake.ts';
import { OAuthFake } from './oauth-fake.ts';
import { fakeServiceAccount, type FakeServiceAccount } from './service-account-fake.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  /** The service account whose token authorised it (undefined for the token endpoint or a refused request). */
  account?: string;
  status: number;
  bytes: number;
}

export class GcpFake {
  readonly requests: RecordedRequest[] = [];
  readonly oauth: OAuthFake;
  readonly gcs: GcsFake;
  readonly bigquery: BigQueryFake;
  private base = '';

  private constructor(private readonly server: Server) {
    this.oauth = new OAuthFake(() => this.tokenUri);
    this.gcs = new GcsFake(() => this.base);
    this.bigquery = new BigQueryFake();
  }

  static async start(): Promise<GcpFake> {
    let fake!: GcpFake;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const request: FakeRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
        let response: FakeResponse;
        let account: string | undefined;
        try {
          if (request.path === '/token' && request.method === 'POST') {
            response = fake.oauth.handle(request);
          } else if (request.method === 'PUT' && request.query.has('upload_id')) {
            // As in GCS, a resumable session URI is its own credential: its PUTs carry no token.
            response = fake.route(request);
          } else {
            account = fake.oauth.holderOf(req.headers.authorization)?.clientEmail;
            response = account ? fake.route(request) : googleError(401, 'authError', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
          }
        } catch (error) {
          response = googleError(500, 'backendError', `fake failed: ${(error as Error).stack}`);
        }
        fake.requests.push({ method: request.method, path: request.path, query: url.search, account, status: response.status, bytes: request.body.length });
        const body = response.body === undefined ? '' : Buffer.isBuffer(response.body) || typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
        const headers = { ...(typeof response.body === 'object' && !Buffer.isBuffer(response.body) ? { 'content-type': 'application/json; charset=UTF-8' } : {}), ...response.headers };
        res.writeHead(response.status, headers);
        res.end(body);
      });
    });
    fake = new GcpFake(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  get url(): string {
    return this.base;
  }

  get tokenUri(): string {
    return `${this.base}/token`;
  }

  /** A new service account whose key this fake trusts. */
  serviceAccount(options: { projectId?: string; name?: string } = {}): FakeServiceAccount {
    const account = fakeServiceAccount({ tokenUri: this.tokenUri, ...options });
    this.oauth.trust(account);
    return account;
  }

  /** The engine environment that points Baton's GCP tasks here. */
  env(): Record<string, string> {
    return { BATON_GCP_STORAGE_ENDPOINT: this.base, BATON_GCP_BIGQUERY_ENDPOINT: this.base };
  }

  private route(request: FakeRequest): FakeResponse {
    if (/^\/(upload\/|download\/)?storage\/v1\//.test(request.path) || request.path === '/storage/v1/b') return this.gcs.handle(request);
    if (/^\/(upload\/)?bigquery\/v2\//.test(request.path)) return this.bigquery.handle(request);
    return googleError(404, 'notFound', `The GCP fake does not implement ${request.method} ${request.path}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
