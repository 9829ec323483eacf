/**
 * Issue #12, finding 5: SECRET inputs were stored and shown in clear. Now: encrypted at rest with
 * BATON_ENCRYPTION_KEY (the raw database row holds no clear value, on both databases), shown as
 * `******` by the API (read, search, follow, start) and the dashboard, decrypted only where a task reads
 * `{{ inputs.x }}` (the task gets the clear value, its logs the mask), and refused without a key.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine, EncryptionKeyError, type Execution } from '../../engine/index.ts';
import { validateFlowSource } from '../../engine/flow/index.ts';
import { InputValidationError } from '../../engine/inputs/index.ts';
import { ENCRYPTED_PREFIX, SECRET_MASK, SecretCipher } from '../../engine/secrets/index.ts';
import { jsonBody, openApiHarness, readEvents, type ApiHarness } from '../api/harness.ts';
import { describeEachDatabase } from '../support/databases.ts';

const KEY = randomBytes(32).toString('base64');
const CLEAR = 'sup3r-s3cret-input-value';

const FLOW = `id: with_secret
namespace: tests.secrets
inputs:
  - id: token
    type: SECRET
  - id: nested.key
    type: SECRET
    required: false
  - id: label
    type: STRING
    defaults: visible
tasks:
  - id: use
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    env:
      T: "{{ inputs.token }}"
      N: "{{ inputs.nested.key }}"
    commands:
      - 'if [ "$T" = "${CLEAR}" ]; then echo "the task got the clear value"; else echo "wrong value"; exit 1; fi'
      - '[ "$N" = "nested-${CLEAR}" ] && echo "nested too"'
      - 'echo "printed: $T"'
`;

const rawInputs = async (harness: ApiHarness, id: string): Promise<string> => {
  const rows = (await harness.db.execute(sql`select inputs::text as inputs from executions where id = ${id}`)) as unknown;
  const list = Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows;
  return (list[0] as { inputs: string }).inputs;
};

describeEachDatabase('SECRET inputs are encrypted at rest and never shown', (open) => {
  let harness: ApiHarness;

  beforeAll(async () => {
    harness = await openApiHarness(open, { engineEnv: { BATON_ENCRYPTION_KEY: KEY } });
    await harness.publish(FLOW);
  });

  it('stores ciphertext, answers ******, and the task reads the clear value (its logs the mask)', async () => {
    const res = await harness.api('/api/v1/executions/tests.secrets/with_secret?wait=true', jsonBody({ token: CLEAR, 'nested.key': `nested-${CLEAR}` }));
    expect(res.status).toBe(200);
    const answered = (await res.json()) as Execution;
    expect(answered.state.current).toBe('SUCCESS');
    expect(answered.inputs).toEqual({ token: SECRET_MASK, nested: { key: SECRET_MASK }, label: 'visible' });

    // The row itself: no clear value, an encrypted one that the key opens.
    const raw = await rawInputs(harness, answered.id);
    expect(raw).not.toContain(CLEAR);
    const stored = JSON.parse(raw) as { token: string; nested: { key: string }; label: string };
    expect(stored.token.startsWith(ENCRYPTED_PREFIX)).toBe(true);
    expect(stored.label).toBe('visible');
    const cipher = SecretCipher.fromEnv({ BATON_ENCRYPTION_KEY: KEY })!;
    expect(cipher.decrypt(stored.token)).toBe(CLEAR);
    expect(cipher.decrypt(stored.nested.key)).toBe(`nested-${CLEAR}`);

    // Every way the API hands an execution out.
    const read = (await (await harness.api(`/api/v1/executions/${answered.id}`)).json()) as Execution;
    expect(read.inputs.token).toBe(SECRET_MASK);
    const search = await (await harness.api('/api/v1/executions/search?namespace=tests.secrets')).text();
    expect(search).toContain(SECRET_MASK);
    const events = await readEvents(await harness.api(`/api/v1/executions/${answered.id}/follow`));
    const followed = events.map((e) => e.data).join('\n');
    for (const text of [JSON.stringify(read), search, followed]) {
      expect(text).not.toContain(CLEAR);
      expect(text).not.toContain(ENCRYPTED_PREFIX);
    }

    // The dashboard's execution page.
    const page = await (await harness.app.request(`/ui/executions/${answered.id}`)).text();
    expect(page).toContain(SECRET_MASK);
    expect(page).not.toContain(CLEAR);
    expect(page).not.toContain(ENCRYPTED_PREFIX);

    // The task had the clear value; what it printed of it is masked.
    const logs = await (await harness.api(`/api/v1/logs/${answered.id}`)).text();
    expect(logs).toContain('the task got the clear value');
    expect(logs).toContain('nested too');
    expect(logs).toContain(`printed: ${SECRET_MASK}`);
    expect(logs).not.toContain(CLEAR);
  });

  it('a replay decrypts the copied inputs again', async () => {
    const res = await harness.api('/api/v1/executions/tests.secrets/with_secret?wait=true', jsonBody({ token: CLEAR }));
    const first = (await res.json()) as Execution;
    const replayed = (await (await harness.api(`/api/v1/executions/${first.id}/replay?wait=true`, { method: 'POST' })).json()) as Execution;
    expect(replayed.state.current).toBe('SUCCESS');
    expect(replayed.inputs.token).toBe(SECRET_MASK);
    expect(await rawInputs(harness, replayed.id)).not.toContain(CLEAR);
  });
});

describeEachDatabase('SECRET inputs without BATON_ENCRYPTION_KEY', (open) => {
  let harness: ApiHarness;

  beforeAll(async () => {
    harness = await openApiHarness(open);
    await harness.publish(FLOW);
  });

  it('an execution is refused (422) naming BATON_ENCRYPTION_KEY, and nothing is stored', async () => {
    const res = await harness.api('/api/v1/executions/tests.secrets/with_secret', jsonBody({ token: CLEAR }));
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain('BATON_ENCRYPTION_KEY');
    expect(body).not.toContain(CLEAR);
    const search = (await (await harness.api('/api/v1/executions/search?namespace=tests.secrets')).json()) as { total: number };
    expect(search.total).toBe(0);
    const error = await harness.engine.create({ flow: validateFlowSource(FLOW).flow!, inputs: { token: CLEAR } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputValidationError);
  });

  it('validation flags each SECRET input when no key is configured', async () => {
    const warnings = validateFlowSource(FLOW, 'f.yaml', { encryptionKeyConfigured: false }).problems.filter((p) => p.severity === 'warning');
    expect(warnings.map((w) => [w.line, w.property, w.message])).toEqual([
      [5, 'inputs[0].type', "SECRET input 'token': BATON_ENCRYPTION_KEY is not set, so Baton cannot store it encrypted and refuses executions of this flow"],
      [7, 'inputs[1].type', "SECRET input 'nested.key': BATON_ENCRYPTION_KEY is not set, so Baton cannot store it encrypted and refuses executions of this flow"],
    ]);
    expect(validateFlowSource(FLOW, 'f.yaml', { encryptionKeyConfigured: true }).problems).toEqual([]);
    const res = await harness.api('/api/v1/flows/validate', { method: 'POST', body: FLOW, headers: { 'content-type': 'application/x-yaml' } });
    const [result] = (await res.json()) as Array<{ warnings: string[] }>;
    expect(result.warnings.join('\n')).toContain('BATON_ENCRYPTION_KEY is not set');
  });
});

describe('BATON_ENCRYPTION_KEY is checked when the engine starts', () => {
  it.each([
    ['not base64', 'not a key!'],
    ['too short', randomBytes(16).toString('base64')],
    ['a 32-character passphrase', 'abcdefghijklmnopqrstuvwxyz012345'],
  ])('%s: EncryptionKeyError saying how to make one, without the value', (_name, key) => {
    const error = (() => {
      try {
        createEngine({ db: undefined as never, dataDir: '/nonexistent', env: { BATON_ENCRYPTION_KEY: key } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(EncryptionKeyError);
    expect((error as Error).message).toContain('openssl rand -base64 32');
    expect((error as Error).message).not.toContain(key);
  });

  it('base64 and base64url of 32 bytes both work, and a value encrypted with another key is refused', () => {
    const bytes = randomBytes(32);
    const a = SecretCipher.fromEnv({ BATON_ENCRYPTION_KEY: bytes.toString('base64') })!;
    const b = SecretCipher.fromEnv({ BATON_ENCRYPTION_KEY: bytes.toString('base64url') })!;
    expect(b.decrypt(a.encrypt(CLEAR))).toBe(CLEAR);
    const other = SecretCipher.fromKey(randomBytes(32));
    expect(() => other.decrypt(a.encrypt(CLEAR))).toThrow(/another key/);
    expect(SecretCipher.fromEnv({})).toBeUndefined();
  });
});
