/**
 * What the dashboard suites share: the real app over a real database, a real Git repository served
 * by `git http-backend` and a real syncer; and a small cookie-keeping client that speaks to it with
 * `app.request()` as a browser would (session cookie, CSRF field or header, HX-Request).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import type { Db } from '../../db/index.ts';
import { createEngine, type Engine } from '../../engine/index.ts';
import { createApp } from '../../server/index.ts';
import { createSyncer, FlowStore, syncConfigFromEnv, type Syncer } from '../../sync/index.ts';
import { createRepo, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';

export const ADMIN = { user: 'admin', password: 'correct horse battery staple' };
export const GIT_USER = 'baton';
export const GIT_PASSWORD = 'git-p4ss-never-shown';
/** BATON_ENCRYPTION_KEY of the dashboard's engine (32 bytes, base64). */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

export interface Dashboard {
  app: Hono;
  engine: Engine;
  syncer: Syncer;
  repo: TestRepo;
  gitServer: GitServer;
  close(): Promise<void>;
}

/** The app over `db`, synced once from a new repository holding `files`. */
export async function startDashboard(options: {
  db: Db;
  files: Record<string, string>;
  admin?: { user: string; password: string };
  apiToken?: string;
  loopback?: boolean;
}): Promise<Dashboard> {
  const gitServer = await startGitServer({ auth: { username: GIT_USER, password: GIT_PASSWORD } });
  const repo = await createRepo(gitServer, 'dashboard', options.files, { author: { name: 'Ada Lovelace', email: 'ada@example.com' }, message: 'first flows' });
  const env = {
    BATON_GIT_URL: repo.url.replace('http://', `http://${GIT_USER}:${GIT_PASSWORD}@`),
    BATON_GIT_BRANCH: 'main',
    BATON_SYNC_POLL_SECONDS: '0',
  };
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-ui-'));
  const config = syncConfigFromEnv(env);
  const flows = new FlowStore(options.db);
  // A key: INPUTS_FLOW has a SECRET input, refused without one.
  const engine = createEngine({ db: options.db, dataDir, flows: flows.flowSource(), namespaceFiles: flows.namespaceFiles(), env: { BATON_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY } });
  const syncer = await createSyncer({ db: options.db, config, dataDir, env });
  const app = createApp({
    db: options.db,
    engine,
    flows,
    syncer,
    sync: config,
    branch: syncer.branch,
    repository: syncer.repository,
    apiToken: options.apiToken,
    admin: options.admin,
    loopback: options.loopback,
  });
  const first = await syncer.start();
  if (first.result !== 'APPLIED' && first.result !== 'UNCHANGED') throw new Error(`initial sync: ${first.result} ${JSON.stringify(first.errors)}`);
  return {
    app,
    engine,
    syncer,
    repo,
    gitServer,
    async close() {
      await syncer.stop();
      await engine.idle();
      await gitServer.close();
    },
  };
}

type FormBody = Record<string, string | string[]>;

/** A browser in miniature: keeps the session cookie and the page's CSRF token. */
export class Client {
  cookie: string | undefined;
  csrf: string | undefined;

  constructor(private readonly app: Hono) {}

  async request(path: string, init: RequestInit & { htmx?: boolean } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('cookie', `baton_session=${this.cookie}`);
    if (init.htmx) headers.set('HX-Request', 'true');
    const res = await this.app.request(path, { ...init, headers });
    for (const line of res.headers.getSetCookie()) {
      const match = /^baton_session=([^;]*)/.exec(line);
      if (match) this.cookie = match[1] === '' ? undefined : match[1];
    }
    return res;
  }

  /** GET and read the body; remembers the CSRF token the page carries. */
  async page(path: string, options: { htmx?: boolean } = {}): Promise<{ status: number; html: string; res: Response }> {
    const res = await this.request(path, { htmx: options.htmx });
    const html = await res.text();
    const token = /name="csrf" value="([^"]+)"/.exec(html) ?? /"X-CSRF-Token": "([^"]+)"/.exec(html);
    if (token) this.csrf = token[1];
    return { status: res.status, html, res };
  }

  /** POST a form (urlencoded, or multipart when given FormData), with the CSRF field unless `csrf: false`. */
  async post(path: string, body: FormBody | FormData, options: { htmx?: boolean; csrf?: boolean | string } = {}): Promise<Response> {
    const token = typeof options.csrf === 'string' ? options.csrf : options.csrf === false ? undefined : this.csrf;
    let payload: BodyInit;
    const headers: Record<string, string> = {};
    if (body instanceof FormData) {
      if (token) body.set('csrf', token);
      payload = body;
    } else {
      const params = new URLSearchParams();
      if (token) params.append('csrf', token);
      for (const [key, value] of Object.entries(body)) for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
      payload = params;
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    return this.request(path, { method: 'POST', body: payload, headers, htmx: options.htmx });
  }

  async login(user = ADMIN.user, password = ADMIN.password): Promise<Response> {
    await this.page('/ui/login');
    return this.post('/ui/login', { user, password, next: '/ui/flows' });
  }
}

/** The content of the element that has `attr` (e.g. `data-input="year"`) up to its closing `</div>`. */
export function block(html: string, attr: string): string {
  const start = html.indexOf(attr);
  if (start === -1) throw new Error(`no element with ${attr}`);
  const end = html.indexOf('\n    </div>', start);
  return html.slice(start, end === -1 ? undefined : end);
}

/** A flow whose description and label try to inject markup, with a Schedule trigger. */
export const HELLO_FLOW = [
  'id: hello',
  'namespace: company.team',
  'description: "Says hello <script>alert(1)</script> & more"',
  'labels:',
  '  owner: "<b>ada</b>"',
  'triggers:',
  '  - id: nightly',
  '    type: io.kestra.plugin.core.trigger.Schedule',
  '    cron: "0 2 * * *"',
  'tasks:',
  '  - id: say',
  '    type: io.kestra.plugin.core.log.Log',
  '    message: "Hello {{ flow.id }}" # greets',
  '',
].join('\n');

/** One input of every type the Execute form knows. */
export const INPUTS_FLOW = [
  'id: every-input',
  'namespace: company.forms',
  'inputs:',
  '  - id: name',
  '    type: STRING',
  '    defaults: world',
  '    description: Who to greet <i>(escaped)</i>',
  '  - id: color',
  '    type: SELECT',
  '    values: [red, green, blue]',
  '    defaults: green',
  '  - id: sizes',
  '    type: MULTISELECT',
  '    values: [S, M, L, XL]',
  '    defaults: [M]',
  '  - id: loud',
  '    type: BOOLEAN',
  '    defaults: true',
  '  - id: tags',
  '    type: ARRAY',
  '    itemType: STRING',
  '    defaults: [a, b]',
  '  - id: count',
  '    type: INT',
  '    min: 1',
  '    max: 10',
  '  - id: ratio',
  '    type: FLOAT',
  '    defaults: 0.5',
  '  - id: at',
  '    type: DATETIME',
  '    defaults: "2024-01-15T09:30:00Z"',
  '  - id: day',
  '    type: DATE',
  '    required: false',
  '  - id: time',
  '    type: TIME',
  '    required: false',
  '  - id: payload',
  '    type: JSON',
  '    defaults: {"a": 1}',
  '  - id: upload',
  '    type: FILE',
  '    required: false',
  '  - id: token',
  '    type: SECRET',
  '    required: false',
  '  - id: email',
  '    type: EMAIL',
  '    required: false',
  '  - id: wait',
  '    type: DURATION',
  '    required: false',
  'tasks:',
  '  - id: show',
  '    type: io.kestra.plugin.core.debug.Return',
  '    format: "{{ inputs.name }} {{ inputs.color }}"',
  '',
].join('\n');

/** Nested flowables for the topology tab. */
export const SHAPES_FLOW = [
  'id: shapes',
  'namespace: company.team',
  'tasks:',
  '  - id: fan',
  '    type: io.kestra.plugin.core.flow.Parallel',
  '    tasks:',
  '      - id: left',
  '        type: io.kestra.plugin.core.log.Log',
  '        message: l',
  '      - id: check',
  '        type: io.kestra.plugin.core.flow.If',
  '        condition: "{{ true }}"',
  '        then:',
  '          - id: yes',
  '            type: io.kestra.plugin.core.log.Log',
  '            message: y',
  '  - id: loop',
  '    type: io.kestra.plugin.core.flow.ForEach',
  '    values: [1, 2]',
  '    tasks:',
  '      - id: call',
  '        type: io.kestra.plugin.core.flow.Subflow',
  '        namespace: company.team',
  '        flowId: hello',
  'errors:',
  '  - id: alert',
  '    type: io.kestra.plugin.core.log.Log',
  '    message: failed',
  '',
].join('\n');
