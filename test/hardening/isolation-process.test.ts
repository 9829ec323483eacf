/**
 * Issue #12, finding 5: a flow's shell task must not reach Baton's secrets. A real `baton standalone`
 * (root, credentials and SECRET_* in its environment, an env file beside it) runs a Process task that
 * tries every way in: /proc/<pid>/environ and /proc/<pid>/mem of Baton and of the spawner helper, the
 * data directory, the env file, its own environment. Each must be refused, and no secret may reach
 * the logs.
 */
import { mkdir, mkdtemp, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Execution } from '../../engine/index.ts';
import { createRepo, gitService, startGitServer, type GitServer } from '../support/git-server.ts';
import { processTest as it, startBaton, type BatonProcess } from '../support/processes.ts';
import { taskUserService } from '../support/task-user.ts';

const API_TOKEN = 'tok-isolation-7d1c0f5e9b2a';
const ADMIN_PASSWORD = 'admin-pw-isolation-41aa09';
const WEBHOOK_SECRET = 'webhook-secret-isolation-88e2';
const STOLEN = 'secret-env-value-isolation-3c77';
const STOLEN_BASE64 = Buffer.from(STOLEN).toString('base64');
const ENV_FILE_PASSWORD = 'env-file-password-isolation-90b1';

/** Reads a process's memory the way a debugger would: its readable regions, looking for BATON_API_TOKEN=. */
const SCAN_MEMORY = `
import sys
pid = sys.argv[1]
try:
    maps = open(f"/proc/{pid}/maps").read().splitlines()
except OSError as e:
    print(f"maps {pid}: denied ({e.strerror})")
    maps = []
try:
    mem = open(f"/proc/{pid}/mem", "rb", 0)
except OSError as e:
    print(f"mem {pid}: denied ({e.strerror})")
    sys.exit(0)
needle = b"BATON_API_TOKEN="
for line in maps:
    addr, perms = line.split()[:2]
    if not perms.startswith("r"):
        continue
    start, end = (int(x, 16) for x in addr.split("-"))
    if end - start > (256 << 20):
        continue
    try:
        mem.seek(start)
        data = mem.read(end - start)
    except OSError:
        continue
    i = data.find(needle)
    if i >= 0:
        print(f"mem {pid}: read", data[i:i + 64].split(b"\\0")[0].decode("latin1"))
        sys.exit(0)
print(f"mem {pid}: opened")
`;

const FLOW = `id: snoop
namespace: tests.isolation
inputs:
  - id: pid
    type: INT
  - id: dataDir
    type: STRING
  - id: envFile
    type: STRING
tasks:
  - id: snoop
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    inputFiles:
      scan.py: |
${SCAN_MEMORY.split('\n').map((line) => `        ${line}`).join('\n')}
    commands:
      - |
        echo "whoami $(id -un)"
        helper=$PPID
        parent=$(awk '/^PPid:/ {print $2}' /proc/$PPID/status)
        for p in {{ inputs.pid }} $helper $parent; do
          if { tr '\\0' '\\n' < /proc/$p/environ > env-$p.txt; } 2>/dev/null; then echo "environ $p: read"; cat env-$p.txt; else echo "environ $p: denied"; fi
          python3 scan.py $p
        done
        if ls -la "{{ inputs.dataDir }}" 2>/dev/null; then
          echo "datadir: read"
          find "{{ inputs.dataDir }}" -type f | head -n 20 | xargs -r grep -a -h -o 'BATON_[A-Z_]*=[^ ]*' 2>/dev/null | head -n 5
        else
          echo "datadir: denied"
        fi
        if cat "{{ inputs.envFile }}" 2>/dev/null; then echo "envfile: read"; else echo "envfile: denied"; fi
        env | grep -E '^(BATON_|SECRET_|DATABASE_URL=)' || echo "env: clean"
        echo "passthrough JAVA_HOME=$JAVA_HOME"
`;

taskUserService.describe('a Process task cannot read Baton\'s environment, memory, data or configuration', () => {
  gitService.describe('(with git)', () => {
    let git: GitServer;
    let root: string;
    let dataDir: string;
    let envFile: string;
    let baton: BatonProcess;
    const auth = { authorization: `Bearer ${API_TOKEN}` };

    beforeAll(async () => {
      git = await startGitServer();
      const repo = await createRepo(git, 'isolation', { 'flows/snoop.yaml': FLOW });
      // A layout an operator might have: a readable parent, the data directory created 0755 by hand,
      // and the service's env file (mode 0600) next to it.
      root = await mkdtemp(join(tmpdir(), 'baton-isolation-'));
      await chmod(root, 0o755);
      dataDir = join(root, 'data');
      await mkdir(dataDir, { mode: 0o755 });
      await chmod(dataDir, 0o755);
      envFile = join(root, 'baton.env');
      await writeFile(envFile, `BATON_ADMIN_PASSWORD=${ENV_FILE_PASSWORD}\n`, { mode: 0o600 });
      baton = await startBaton('standalone', {
        BATON_DATA_DIR: dataDir,
        DATABASE_URL: '',
        BATON_GIT_URL: repo.url,
        BATON_GIT_BRANCH: 'main',
        BATON_SYNC_POLL_SECONDS: '0',
        BATON_SCHEDULER: 'off',
        BATON_API_TOKEN: API_TOKEN,
        BATON_ADMIN_USER: 'admin',
        BATON_ADMIN_PASSWORD: ADMIN_PASSWORD,
        BATON_GIT_WEBHOOK_SECRET: WEBHOOK_SECRET,
        SECRET_STOLEN: STOLEN_BASE64,
        // An explicit opt-in keeps working for tool settings, never for Baton's own variables.
        BATON_TASK_ENV_PASSTHROUGH: 'JAVA_HOME,DATABASE_URL,SECRET_STOLEN,BATON_API_TOKEN',
        JAVA_HOME: '/opt/jdk-isolation-test',
      });
    }, 180_000);

    afterAll(async () => {
      await baton?.kill('SIGKILL');
      await git?.close();
      if (root) await rm(root, { recursive: true, force: true });
    });

    it('every attempt is refused, and no secret reaches the logs', async () => {
      const pid = baton.child.pid!;
      const response = await fetch(`${baton.url}/api/v1/executions/tests.isolation/snoop?wait=true`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ pid, dataDir, envFile }),
      });
      expect(response.status, baton.output()).toBe(200);
      const execution = (await response.json()) as Execution;
      const logs = (await (await fetch(`${baton.url}/api/v1/logs/${execution.id}`, { headers: auth })).json()) as Array<{ message: string }>;
      const text = logs.map((l) => l.message).join('\n');

      expect(execution.state.current, text).toBe('SUCCESS');
      expect(text).toContain('whoami baton-task');
      expect(text).toContain(`environ ${pid}: denied`);
      expect(text).toMatch(new RegExp(`mem ${pid}: denied`));
      expect(text).toMatch(new RegExp(`maps ${pid}: denied`));
      // The spawner helper (the command's parent) is refused too, whatever it holds.
      expect(text).not.toMatch(/environ \d+: read/);
      expect(text).not.toMatch(/mem \d+: (read|opened)/);
      expect(text).toContain('datadir: denied');
      expect(text).toContain('envfile: denied');
      expect(text).toContain('env: clean');
      expect(text).toContain('passthrough JAVA_HOME=/opt/jdk-isolation-test');
      for (const secret of [API_TOKEN, ADMIN_PASSWORD, WEBHOOK_SECRET, STOLEN, STOLEN_BASE64, ENV_FILE_PASSWORD]) {
        expect(text).not.toContain(secret);
      }
      // Started as root, Baton made its data directory its own.
      const data = await stat(dataDir);
      expect(data.mode & 0o777).toBe(0o700);
      expect(data.uid).toBe(0);
    });
  });
});
