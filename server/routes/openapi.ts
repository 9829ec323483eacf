import { Hono } from 'hono';
import { KV_TYPES } from '../../engine/kv/index.ts';
import { LOG_LEVELS, STATES } from '../../engine/index.ts';

type Schema = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  description: string;
  required?: boolean;
  schema?: Schema;
  /** Repeatable query parameter (`state=A&state=B`). */
  repeated?: boolean;
}

interface Operation {
  summary: string;
  tag: string;
  parameters?: Parameter[];
  requestBody?: { description: string; content: Record<string, Schema>; required?: boolean };
  /** Status → description and, when there is a body, its media types. */
  responses: Record<string, { description: string; content?: Record<string, Schema> }>;
  /** Not behind the API credentials. */
  open?: boolean;
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const string: Schema = { type: 'string' };
const integer: Schema = { type: 'integer', minimum: 1 };
const dateTime: Schema = { type: 'string', format: 'date-time' };

const path = (name: string, description: string): Parameter => ({ name, in: 'path', description, required: true, schema: string });
const query = (name: string, description: string, schema: Schema = string, extra: Partial<Parameter> = {}): Parameter => ({ name, in: 'query', description, schema, ...extra });

const id = path('id', 'The execution id');
const namespace = path('namespace', 'The namespace');
const flowNs = path('namespace', 'The namespace of the flow');
const flowId = path('id', 'The flow id');
const executionId = path('executionId', 'The execution id');
const page = query('page', 'The page, from 1', { ...integer, default: 1 });
const size = query('size', 'The page size', { ...integer, default: 25, maximum: 1000 });

const error = (description: string) => ({ description, content: json(ref('Error')) });
const notFound = error('Not found');
const conflict = error('Refused in the current state');
const badRequest = error('Invalid request');
const gitOnly = error('Read-only: flows and namespace files are changed in Git');
const sse = (description: string) => ({ description, content: { 'text/event-stream': { schema: string } } });

/**
 * Every route of the API, by OpenAPI path and method. Hand-written: a test checks that every route
 * the app registers outside the dashboard (`/ui`, `/static`, `/`) is described here.
 */
const OPERATIONS: Record<string, Record<string, Operation>> = {
  '/healthz': {
    get: { summary: 'Liveness', tag: 'Server', open: true, responses: { 200: { description: 'Up', content: json({ type: 'object', properties: { status: { const: 'UP' } } }) } } },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics: executions by state, queue depth, task-run durations, Git sync lag',
      tag: 'Server',
      responses: { 200: { description: 'Text exposition format 0.0.4', content: { 'text/plain': { schema: string } } }, 401: error('Missing or invalid credentials') },
    },
  },
  '/hooks/git': {
    post: {
      summary: 'Git push webhook (GitHub, Gitea/Forgejo, GitLab, Bitbucket): verified, recorded, synced asynchronously',
      tag: 'Sync',
      open: true,
      requestBody: { description: 'The provider\'s push payload, signed', required: true, content: json({ type: 'object' }) },
      responses: { 200: { description: 'Ping acknowledged', content: json({ type: 'object' }) }, 202: { description: 'Sync requested (or push ignored)', content: json({ type: 'object' }) }, 401: error('Bad or missing signature'), 413: error('Body too large') },
    },
  },
  '/api/v1/openapi.json': {
    get: { summary: 'This document', tag: 'Server', responses: { 200: { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } } },
  },
  '/api/v1/sync': {
    get: { summary: 'Sync status: repository, live commit, last attempt, errors with file:line, history', tag: 'Sync', responses: { 200: { description: 'Status', content: json(ref('SyncStatus')) } } },
    post: { summary: 'Sync now; answers with the outcome', tag: 'Sync', responses: { 200: { description: 'Outcome', content: json({ type: 'object' }) } } },
  },
  '/api/v1/flows': {
    post: { summary: 'Refused: flows are created in Git', tag: 'Flows', responses: { 409: gitOnly } },
  },
  '/api/v1/flows/search': {
    get: {
      summary: 'Search live flows',
      tag: 'Flows',
      parameters: [query('q', 'Substring of the id or namespace'), query('namespace', 'Namespace and the ones below it'), page, size],
      responses: { 200: { description: 'A page of flows', content: json({ type: 'object', properties: { results: { type: 'array', items: ref('Flow') }, total: { type: 'integer' } } }) } },
    },
  },
  '/api/v1/flows/validate': {
    post: {
      summary: 'Validate flow YAML (documents separated by ---)',
      tag: 'Flows',
      requestBody: { description: 'Flow YAML', required: true, content: { 'application/x-yaml': { schema: string } } },
      responses: { 200: { description: 'One result per document', content: json({ type: 'array', items: { type: 'object' } }) } },
    },
  },
  '/api/v1/flows/{namespace}': {
    get: { summary: 'Live flows of a namespace', tag: 'Flows', parameters: [flowNs], responses: { 200: { description: 'Flows', content: json({ type: 'array', items: ref('Flow') }) } } },
    post: { summary: 'Refused: flows are changed in Git', tag: 'Flows', parameters: [flowNs], responses: { 409: gitOnly } },
  },
  '/api/v1/flows/{namespace}/{id}': {
    get: {
      summary: 'A flow (the live revision, or one revision)',
      tag: 'Flows',
      parameters: [flowNs, flowId, query('revision', 'A revision number', integer), query('source', 'Include the YAML source', { type: 'boolean' }), query('allowDeleted', 'Also a deleted flow', { type: 'boolean' })],
      responses: { 200: { description: 'The flow', content: json(ref('Flow')) }, 404: notFound },
    },
    put: { summary: 'Refused: flows are changed in Git', tag: 'Flows', parameters: [flowNs, flowId], responses: { 409: gitOnly } },
    delete: { summary: 'Refused: flows are deleted in Git', tag: 'Flows', parameters: [flowNs, flowId], responses: { 409: gitOnly } },
  },
  '/api/v1/flows/{namespace}/{id}/revisions': {
    get: { summary: 'Every revision of a flow, with its commit', tag: 'Flows', parameters: [flowNs, flowId], responses: { 200: { description: 'Revisions, oldest first', content: json({ type: 'array', items: { type: 'object' } }) }, 404: notFound } },
  },
  '/api/v1/flows/{namespace}/{id}/diff': {
    get: {
      summary: 'Unified diff between two revisions',
      tag: 'Flows',
      parameters: [flowNs, flowId, query('from', 'Revision', integer, { required: true }), query('to', 'Revision', integer, { required: true })],
      responses: { 200: { description: 'Diff', content: { 'text/x-diff': { schema: string } } }, 404: notFound },
    },
  },
  '/api/v1/namespaces/{namespace}/files': {
    get: { summary: 'A namespace file', tag: 'Files', parameters: [namespace, query('path', 'File path, /-rooted', string, { required: true })], responses: { 200: { description: 'Content', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }, 400: badRequest, 404: notFound } },
    post: { summary: 'Refused: namespace files are changed in Git', tag: 'Files', parameters: [namespace], responses: { 409: gitOnly } },
    put: { summary: 'Refused: namespace files are changed in Git', tag: 'Files', parameters: [namespace], responses: { 409: gitOnly } },
    delete: { summary: 'Refused: namespace files are changed in Git', tag: 'Files', parameters: [namespace], responses: { 409: gitOnly } },
  },
  '/api/v1/namespaces/{namespace}/files/directory': {
    get: { summary: 'Entries of a namespace-file directory', tag: 'Files', parameters: [namespace, query('path', 'Directory, /-rooted')], responses: { 200: { description: 'Files and directories', content: json({ type: 'array', items: { type: 'object' } }) }, 400: badRequest } },
  },
  '/api/v1/plugins': {
    get: {
      summary: 'The plugin catalogue: type, group, title, deprecation, description, properties, outputs, examples',
      tag: 'Plugins',
      parameters: [query('kind', 'Only plugins of this kind', { enum: ['task', 'trigger', 'condition', 'runner'] })],
      responses: { 200: { description: 'Every registered plugin', content: json({ type: 'array', items: { type: 'object' } }) }, 400: badRequest },
    },
  },
  '/api/v1/plugins/schemas/flow': {
    get: { summary: 'The JSON Schema of a flow, for editors (yaml-language-server)', tag: 'Plugins', responses: { 200: { description: 'JSON Schema draft 2020-12', content: { 'application/schema+json': { schema: { type: 'object' } } } } } },
  },
  '/api/v1/plugins/{type}': {
    get: {
      summary: 'One plugin by its type (an older name finds the current type), with its kind\'s common properties',
      tag: 'Plugins',
      parameters: [path('type', 'The type string, e.g. io.kestra.plugin.core.log.Log')],
      responses: { 200: { description: 'The plugin', content: json({ type: 'object' }) }, 404: notFound },
    },
  },
  '/api/v1/namespaces/{namespace}/kv': {
    get: { summary: 'Keys of a namespace (without values)', tag: 'KV', parameters: [namespace], responses: { 200: { description: 'Entries, by key', content: json({ type: 'array', items: ref('KvEntry') }) }, 400: badRequest } },
  },
  '/api/v1/namespaces/{namespace}/kv/{key}': {
    get: { summary: 'A value with its type', tag: 'KV', parameters: [namespace, path('key', 'The key')], responses: { 200: { description: 'Typed value', content: json(ref('KvValue')) }, 400: badRequest, 404: notFound } },
    put: {
      summary: 'Store a value: a JSON body keeps its JSON type, text/plain is a STRING',
      tag: 'KV',
      parameters: [
        namespace,
        path('key', 'The key'),
        { name: 'ttl', in: 'header', description: 'ISO-8601 duration after which the value expires (PT1H)', schema: string },
        { name: 'description', in: 'header', description: 'A note on the key', schema: string },
        { name: 'type', in: 'header', description: 'Explicit type (Baton): DATETIME, DATE and DURATION cannot be told from JSON', schema: { enum: [...KV_TYPES] } },
      ],
      requestBody: { description: 'The value', required: true, content: { 'application/json': { schema: {} }, 'text/plain': { schema: string } } },
      responses: { 200: { description: 'Stored', content: json({ allOf: [ref('KvEntry'), { type: 'object', properties: { value: {} } }] }) }, 400: badRequest, 415: error('Unsupported content type') },
    },
    delete: { summary: 'Delete a key', tag: 'KV', parameters: [namespace, path('key', 'The key')], responses: { 200: { description: 'Deleted', content: json({ const: true }) }, 400: badRequest, 404: notFound } },
  },
  '/api/v1/executions/search': {
    get: {
      summary: 'Search executions, newest start first',
      tag: 'Executions',
      parameters: [
        query('namespace', 'Namespace and the ones below it'),
        query('flowId', 'Flow id'),
        query('state', 'States (repeat, or comma-separated)', { type: 'array', items: { enum: [...STATES] } }, { repeated: true }),
        query('startDate', 'Started at or after', dateTime),
        query('endDate', 'Ended at or before', dateTime),
        query('labels', 'key:value, every one required (repeat)', { type: 'array', items: string }, { repeated: true }),
        page,
        size,
      ],
      responses: { 200: { description: 'A page of executions with their task runs', content: json({ type: 'object', properties: { results: { type: 'array', items: ref('Execution') }, total: { type: 'integer' } } }) }, 400: badRequest },
    },
  },
  '/api/v1/executions/{namespace}/{flowId}': {
    post: {
      summary: 'Start an execution of a flow',
      tag: 'Executions',
      parameters: [
        flowNs,
        path('flowId', 'The flow id'),
        query('wait', 'Answer once the execution has terminated', { type: 'boolean' }),
        query('revision', 'Run this revision instead of the live one', integer),
        query('labels', 'key:value (repeat)', { type: 'array', items: string }, { repeated: true }),
      ],
      requestBody: { description: 'Inputs: multipart (files as parts), urlencoded or a JSON object', content: { 'multipart/form-data': { schema: { type: 'object' } }, 'application/json': { schema: { type: 'object' } } } },
      responses: { 200: { description: 'The execution (terminated with wait=true)', content: json(ref('Execution')) }, 400: badRequest, 404: notFound, 409: error('The flow is disabled'), 422: { description: 'Invalid inputs, each named in details', content: json(ref('Error')) } },
    },
  },
  '/api/v1/executions/{id}': {
    get: { summary: 'An execution with its task runs', tag: 'Executions', parameters: [id], responses: { 200: { description: 'The execution', content: json(ref('Execution')) }, 404: notFound } },
  },
  '/api/v1/executions/{id}/kill': {
    delete: { summary: 'Kill an execution (and the subflows it started)', tag: 'Executions', parameters: [id], responses: { 202: { description: 'Kill requested', content: json(ref('Execution')) }, 404: notFound, 409: conflict } },
  },
  '/api/v1/executions/{id}/restart': {
    post: {
      summary: 'Restart a terminated execution: same id, failed task runs run again, successful ones are kept',
      tag: 'Executions',
      parameters: [id, query('wait', 'Answer once it has terminated again', { type: 'boolean' })],
      responses: { 200: { description: 'The restarted execution', content: json(ref('Execution')) }, 404: notFound, 409: conflict },
    },
  },
  '/api/v1/executions/{id}/replay': {
    post: {
      summary: 'Replay a terminated execution as a new one (originalId links back), optionally from one task run',
      tag: 'Executions',
      parameters: [id, query('taskRunId', 'Run again from this task run; the ones before it are copied'), query('wait', 'Answer once it has terminated', { type: 'boolean' })],
      responses: { 200: { description: 'The new execution', content: json(ref('Execution')) }, 404: notFound, 409: conflict },
    },
  },
  '/api/v1/executions/{id}/follow': {
    get: { summary: 'Server-sent events: the execution at each change (id: progress), then id: end', tag: 'Executions', parameters: [id], responses: { 200: sse('Event stream'), 404: notFound } },
  },
  '/api/v1/executions/{id}/file': {
    get: {
      summary: 'Download a file of the execution',
      tag: 'Executions',
      parameters: [id, query('path', 'kestra:/// URI of one of the execution\'s files', string, { required: true })],
      responses: { 200: { description: 'The file, as an attachment', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }, 400: badRequest, 403: error('Not a file of this execution'), 404: notFound },
    },
  },
  '/api/v1/executions/webhook/{namespace}/{flowId}/{key}': Object.fromEntries(
    (['get', 'post', 'put'] as const).map((method) => [
      method,
      {
        summary: 'Flow webhook (Webhook trigger): starts an execution; the key is the credential',
        tag: 'Triggers',
        open: true,
        parameters: [flowNs, path('flowId', 'The flow id'), path('key', 'The trigger\'s key')],
        ...(method === 'get' ? {} : { requestBody: { description: 'Any body, up to 10 MiB, given to the trigger', content: { '*/*': { schema: {} } } } }),
        responses: {
          200: { description: 'The execution (ended, or its outputs, as the trigger says)', content: json(ref('Execution')) },
          204: { description: 'The trigger\'s conditions do not hold: nothing started' },
          404: error('Unknown flow, trigger or key (one answer for all three)'),
          413: error('Body over 10 MiB'),
          422: error('Inputs or conditions cannot be rendered'),
          500: { description: 'With wait: the execution failed', content: json(ref('Execution')) },
        },
      } satisfies Operation,
    ]),
  ),
  '/api/v1/triggers/search': {
    get: {
      summary: 'Schedule triggers and their state',
      tag: 'Triggers',
      parameters: [query('namespace', 'Namespace'), query('flowId', 'Flow id'), page, size],
      responses: { 200: { description: 'A page of triggers', content: json({ type: 'object', properties: { results: { type: 'array', items: ref('Trigger') }, total: { type: 'integer' } } }) }, 400: badRequest },
    },
  },
  '/api/v1/triggers': {
    put: {
      summary: 'Start a backfill ({namespace, flowId, triggerId, backfill: {start, end, inputs, labels}}) or set disabled',
      tag: 'Triggers',
      requestBody: { description: 'The trigger and what to change', required: true, content: json(ref('TriggerRequest')) },
      responses: { 200: { description: 'The trigger', content: json(ref('Trigger')) }, 400: badRequest, 404: notFound, 409: conflict },
    },
  },
  '/api/v1/triggers/backfill/pause': {
    put: { summary: 'Pause a trigger\'s backfill', tag: 'Triggers', requestBody: { description: 'The trigger', required: true, content: json(ref('TriggerRequest')) }, responses: { 200: { description: 'The trigger', content: json(ref('Trigger')) }, 400: badRequest, 404: notFound, 409: conflict } },
  },
  '/api/v1/triggers/backfill/unpause': {
    put: { summary: 'Resume a trigger\'s backfill', tag: 'Triggers', requestBody: { description: 'The trigger', required: true, content: json(ref('TriggerRequest')) }, responses: { 200: { description: 'The trigger', content: json(ref('Trigger')) }, 400: badRequest, 404: notFound, 409: conflict } },
  },
  '/api/v1/triggers/backfill/delete': {
    post: { summary: 'Delete a trigger\'s backfill', tag: 'Triggers', requestBody: { description: 'The trigger', required: true, content: json(ref('TriggerRequest')) }, responses: { 200: { description: 'The trigger', content: json(ref('Trigger')) }, 400: badRequest, 404: notFound, 409: conflict } },
  },
  '/api/v1/triggers/{namespace}/{flowId}': {
    get: {
      summary: 'The schedule triggers of one flow',
      tag: 'Triggers',
      parameters: [flowNs, path('flowId', 'The flow id'), page, size],
      responses: { 200: { description: 'A page of triggers', content: json({ type: 'object', properties: { results: { type: 'array', items: ref('Trigger') }, total: { type: 'integer' } } }) } },
    },
  },
  '/api/v1/logs/{executionId}': {
    get: {
      summary: 'Logs of an execution',
      tag: 'Logs',
      parameters: [executionId, query('minLevel', 'Lowest level', { enum: [...LOG_LEVELS] }), query('taskId', 'Only this task'), query('taskRunId', 'Only this task run'), query('attempt', 'Only this attempt', integer)],
      responses: { 200: { description: 'Log lines in order', content: json({ type: 'array', items: ref('LogEntry') }) }, 400: badRequest, 404: notFound },
    },
  },
  '/api/v1/logs/{executionId}/follow': {
    get: {
      summary: 'Server-sent events: stored lines then live ones, event id = row id (resume with Last-Event-ID), then an end event',
      tag: 'Logs',
      parameters: [executionId, query('minLevel', 'Lowest level', { enum: [...LOG_LEVELS] }), { name: 'Last-Event-ID', in: 'header', description: 'Resume after this line', schema: string }],
      responses: { 200: sse('Event stream'), 400: badRequest, 404: notFound },
    },
  },
  '/api/v1/logs/{executionId}/download': {
    get: {
      summary: 'Logs as a text file, one line per log: timestamp level [taskId] message',
      tag: 'Logs',
      parameters: [executionId, query('minLevel', 'Lowest level', { enum: [...LOG_LEVELS] }), query('taskId', 'Only this task'), query('taskRunId', 'Only this task run'), query('attempt', 'Only this attempt', integer)],
      responses: { 200: { description: 'Text', content: { 'text/plain': { schema: string } } }, 400: badRequest, 404: notFound },
    },
  },
};

const STATE: Schema = {
  type: 'object',
  required: ['current', 'histories', 'startDate'],
  properties: {
    current: { enum: [...STATES] },
    histories: { type: 'array', items: { type: 'object', properties: { state: { enum: [...STATES] }, date: dateTime } } },
    startDate: dateTime,
    endDate: dateTime,
    duration: { type: 'string', description: 'ISO-8601 duration' },
  },
};

const SCHEMAS: Record<string, Schema> = {
  Error: {
    type: 'object',
    required: ['message', 'details'],
    properties: { message: string, details: { description: 'What exactly was wrong (e.g. one entry per invalid input), or null' } },
  },
  State: STATE,
  TaskRun: {
    type: 'object',
    properties: {
      id: string, executionId: string, namespace: string, flowId: string, taskId: string,
      parentTaskRunId: { type: ['string', 'null'] }, value: { type: ['string', 'null'] }, iteration: { type: ['integer', 'null'] },
      state: ref('State'), attempts: { type: 'array', items: { type: 'object', properties: { state: ref('State') } } },
      outputs: { type: ['object', 'null'] },
    },
  },
  Execution: {
    type: 'object',
    properties: {
      id: string, namespace: string, flowId: string, flowRevision: { type: 'integer' }, state: ref('State'),
      inputs: { type: 'object' }, outputs: { type: ['object', 'null'] },
      labels: { type: 'array', items: { type: 'object', properties: { key: string, value: string } } },
      variables: { type: ['object', 'null'] }, trigger: { type: ['object', 'null'] },
      taskRunList: { type: 'array', items: ref('TaskRun') },
      originalId: { type: ['string', 'null'], description: 'The execution this one replays' },
      parentExecutionId: { type: ['string', 'null'] }, parentTaskRunId: { type: ['string', 'null'] },
      commitSha: { type: ['string', 'null'], description: 'Git commit of the flow revision' },
      attemptNumber: { type: 'integer', description: 'Restarts count from 1' },
    },
  },
  LogEntry: {
    type: 'object',
    properties: {
      namespace: string, flowId: string, executionId: string, taskId: { type: ['string', 'null'] }, taskRunId: { type: ['string', 'null'] },
      attemptNumber: { type: ['integer', 'null'] }, timestamp: dateTime, level: { enum: [...LOG_LEVELS] }, message: string,
    },
  },
  KvEntry: {
    type: 'object',
    properties: { key: string, type: { enum: [...KV_TYPES] }, description: { type: ['string', 'null'] }, expirationDate: { type: ['string', 'null'], format: 'date-time' }, updateDate: dateTime },
  },
  KvValue: { type: 'object', properties: { type: { enum: [...KV_TYPES] }, value: {} } },
  Flow: { type: 'object', description: 'The flow definition (Kestra YAML as JSON) with revision, commit and gitPath', properties: { id: string, namespace: string, revision: { type: 'integer' } } },
  Trigger: { type: 'object', description: 'A Schedule trigger\'s state: dates, disabled flag, backfill', properties: { namespace: string, flowId: string, triggerId: string } },
  TriggerRequest: {
    type: 'object',
    required: ['namespace', 'flowId', 'triggerId'],
    properties: { namespace: string, flowId: string, triggerId: string, disabled: { type: 'boolean' }, backfill: { type: 'object', properties: { start: dateTime, end: dateTime, inputs: { type: 'object' }, labels: {} } } },
  },
  SyncStatus: { type: 'object', properties: { repository: string, branch: string, state: string, lastAppliedCommit: { type: ['object', 'null'] }, errors: { type: 'array' } } },
};

/**
 * What any route may answer before its handler runs (server/app.ts): a Host not allowed, a malformed
 * parameter, a body over the limit; behind the credentials, a locked-out address.
 */
function commonResponses(route: string, op: Operation): Record<string, { description: string; content?: Record<string, Schema> }> {
  return {
    ...(op.responses[400] ? {} : { 400: error('A malformed parameter: NUL byte, broken percent-encoding, a number or date out of range') }),
    ...(op.requestBody && !op.responses[413] ? { 413: error('Body over BATON_LIMIT_REQUEST_BODY_BYTES (uploads: BATON_LIMIT_UPLOAD_BYTES)') } : {}),
    ...(op.open ? {} : { 429: error('Too many failed logins or API tokens from this address (BATON_LIMIT_AUTH_FAILURES): see Retry-After') }),
    // Probes reach /healthz by the pod's IP: it answers any Host.
    ...(route === '/healthz' ? {} : { 421: error('The Host is not one this server answers (BATON_ALLOWED_HOSTS, BATON_PUBLIC_URL)') }),
  };
}

/** The OpenAPI 3.1 document of the API. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [route, operations] of Object.entries(OPERATIONS)) {
    paths[route] = {};
    for (const [method, op] of Object.entries(operations)) {
      paths[route][method] = {
        summary: op.summary,
        tags: [op.tag],
        operationId: operationId(method, route),
        ...(op.open ? { security: [] } : {}),
        ...(op.parameters?.length
          ? {
              parameters: op.parameters.map(({ repeated, ...p }) => ({
                ...p,
                ...(repeated ? { style: 'form', explode: true } : {}),
              })),
            }
          : {}),
        ...(op.requestBody ? { requestBody: op.requestBody } : {}),
        responses: { ...op.responses, ...commonResponses(route, op) },
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Baton API',
      version: '1',
      description: 'Git-native, Kestra-compatible pipeline orchestrator. Errors are JSON {message, details}. Flows and namespace files are read-only: they change in Git.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'BATON_API_TOKEN' } },
      schemas: SCHEMAS,
    },
  };
}

function operationId(method: string, route: string): string {
  const words = route.replace(/^\/(api\/v1\/)?/, '').split(/[/.{}-]+/).filter(Boolean);
  return method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

/** `GET /api/v1/openapi.json`. */
export function openApiRoutes(): Hono {
  const app = new Hono();
  const document = openApiDocument();
  app.get('/api/v1/openapi.json', (c) => c.json(document));
  return app;
}
