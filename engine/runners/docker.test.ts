import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/index.ts';
import { createEngine, type Engine, type LogEntry } from '../index.ts';
import { validateFlowSource } from '../flow/index.ts';
import { requireService } from '../../test/support/services.ts';
import { DockerFrameParser } from './docker-frames.ts';
import { parseBytes, parseDockerOptions } from './docker-options.ts';
import { registryAuth, registryOf } from './docker-pull.ts';
import { DOCKER_RUNNER_TYPE, DOCKER_TASK_LABEL, DockerRunner } from './docker.ts';
import { PROCESS_RUNNER_TYPE, ProcessRunner } from './process.ts';
import { resolveRunner } from './registry.ts';
import { runRunnerContract } from './runner.case.ts';
import { isRunnerError, type RunnerJob, type RunnerResult, type TaskRunner } from './types.ts';

const BUSYBOX = 'baton-test/busybox:latest';
const PYTHON = 'baton-test/python:3';
/** A registry on a closed loopback port: pulls fail at once and no traffic leaves the machine. */
const UNREACHABLE_REGISTRY = '127.0.0.1:9';
const KILL_GRACE_MS = 1_000;
/** Unique per test file run, so leftovers of this file are told apart from other suites' containers. */
const RUN_LABEL = `docker-test-${randomBytes(4).toString('hex')}`;

const docker = new Dockerode();

async function probeDocker(): Promise<string | null> {
  try {
    await docker.ping();
  } catch (error) {
    return `no Docker engine (${(error as Error).message})`;
  }
  for (const image of [BUSYBOX, PYTHON]) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      return `image ${image} is missing: run test/images/build.sh`;
    }
  }
  return null;
}

/** Containers of this test file still present, running or not. */
async function leftovers(): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${DOCKER_TASK_LABEL}=${RUN_LABEL}`] } });
  return containers.map((c) => `${c.Id.slice(0, 12)} ${c.State}`);
}

/** The runner with this file's label on every container it creates. */
function labelled(runner: TaskRunner): TaskRunner {
  return {
    type: runner.type,
    isAvailable: () => runner.isAvailable(),
    run: (job) => runner.run({ ...job, labels: { [DOCKER_TASK_LABEL]: RUN_LABEL } }),
  };
}

describe('Docker runner options (no engine needed)', () => {
  it('reads sizes as Kestra does, in powers of 1024', () => {
    expect(parseBytes('512MB')).toBe(512 * 1024 ** 2);
    expect(parseBytes('512Mb')).toBe(512 * 1024 ** 2);
    expect(parseBytes('1GB')).toBe(1024 ** 3);
    expect(parseBytes('1.5g')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('2048KB')).toBe(2 * 1024 ** 2);
    expect(parseBytes('256MiB')).toBe(256 * 1024 ** 2);
    expect(parseBytes(1000)).toBe(1000);
    expect(parseBytes('12 parsecs')).toBeUndefined();
  });

  it('defaults like Kestra: IF_NOT_PRESENT, entryPoint [""], delete true; the runner image wins over containerImage', () => {
    const options = parseDockerOptions({ type: DOCKER_RUNNER_TYPE }, 'python:3.11');
    expect(options).toMatchObject({ image: 'python:3.11', pullPolicy: 'IF_NOT_PRESENT', entryPoint: [''], delete: true, volumes: [] });
    expect(options.networkMode).toBeUndefined();
    expect(parseDockerOptions({ image: 'from-docker-options' }, 'python:3.11').image).toBe('from-docker-options');
  });

  it('maps cpu, memory, killGracePeriod and string values from expressions', () => {
    const options = parseDockerOptions(
      { cpu: { cpus: '1.5' }, memory: { memory: '512MB', memorySwap: '-1' }, killGracePeriod: 'PT2S', delete: 'false', pullPolicy: 'never' },
      'img',
    );
    expect(options).toMatchObject({ nanoCpus: 1.5e9, memory: 512 * 1024 ** 2, memorySwap: -1, killGraceMs: 2000, delete: false, pullPolicy: 'NEVER' });
  });

  it('names the property at fault', () => {
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(isRunnerError(error, 'INVALID_JOB')).toBe(true);
        return (error as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(message(() => parseDockerOptions({ memory: { memory: 'lots' } }, 'img'))).toContain('taskRunner.memory.memory: "lots"');
    expect(message(() => parseDockerOptions({ pullPolicy: 'SOMETIMES' }, 'img'))).toContain('taskRunner.pullPolicy');
    expect(message(() => parseDockerOptions({ volumes: ['relative'] }, 'img'))).toContain('taskRunner.volumes');
    expect(message(() => parseDockerOptions({ cpu: { cpus: 0 } }, 'img'))).toContain('taskRunner.cpu.cpus');
    expect(message(() => parseDockerOptions({}, undefined))).toContain('containerImage');
  });

  it('finds the registry login for an image in credentials or a Docker config', () => {
    expect(registryOf('python:3.11')).toBe('docker.io');
    expect(registryOf('ghcr.io/kestra-io/kestrapy:latest')).toBe('ghcr.io');
    expect(registryOf('localhost:5000/x')).toBe('localhost:5000');
    const auth = Buffer.from('me:secret').toString('base64');
    expect(registryAuth('ghcr.io/a/b', undefined, JSON.stringify({ auths: { 'https://ghcr.io': { auth } } }))).toMatchObject({ username: 'me', password: 'secret' });
    expect(registryAuth('python', undefined, { auths: { 'https://index.docker.io/v1/': { auth } } })).toMatchObject({ username: 'me' });
    expect(registryAuth('ghcr.io/a/b', { registry: 'ghcr.io', username: 'u', password: 'p' }, undefined)).toMatchObject({ username: 'u', password: 'p', serveraddress: 'ghcr.io' });
    expect(registryAuth('quay.io/a/b', { registry: 'ghcr.io', username: 'u', password: 'p' }, undefined)).toBeUndefined();
  });
});

describe('DockerFrameParser', () => {
  const frame = (type: number, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = type;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };

  it('demultiplexes frames cut anywhere, headers included', () => {
    const bytes = Buffer.concat([frame(1, 'out1\n'), frame(2, 'err1\n'), frame(1, 'out2\n')]);
    for (let size = 1; size <= bytes.length; size++) {
      const parser = new DockerFrameParser();
      const got: Record<string, string> = { stdout: '', stderr: '' };
      for (let i = 0; i < bytes.length; i += size) {
        for (const f of parser.push(bytes.subarray(i, i + size))) got[f.stream] += f.payload.toString();
      }
      expect(got).toEqual({ stdout: 'out1\nout2\n', stderr: 'err1\n' });
      expect(parser.truncated).toBe(false);
    }
  });

  it('refuses a stream that is not multiplexed', () => {
    expect(() => new DockerFrameParser().push(Buffer.from('plain text output'))).toThrow(/stream type/);
  });
});

const dockerd = requireService('dockerd', probeDocker);

dockerd.describe('Docker runner [dockerd]', () => {
  afterAll(async () => {
    // Whatever a test did, this file leaves no container behind.
    expect(await leftovers()).toEqual([]);
  });

  runRunnerContract(
    'Docker',
    () => labelled(new DockerRunner({ killGraceMs: KILL_GRACE_MS })),
    { killGraceMs: KILL_GRACE_MS, job: { containerImage: BUSYBOX, options: { type: DOCKER_RUNNER_TYPE, networkMode: 'none' } } },
  );

  describe('Docker-specific behaviour', () => {
    const runner = new DockerRunner({ killGraceMs: KILL_GRACE_MS, volumesEnabled: true });
    let workingDir: string;
    let outputDir: string;

    beforeEach(async () => {
      workingDir = await mkdtemp(join(tmpdir(), 'baton-docker-'));
      outputDir = join(workingDir, 'out');
      await mkdir(outputDir);
    });
    afterEach(async () => {
      // Files written by containers must be removable by the host user.
      await rm(workingDir, { recursive: true, force: false });
      expect(await leftovers()).toEqual([]);
    });

    async function run(script: string, options: Record<string, unknown> = {}, extra: Partial<RunnerJob> = {}, using: DockerRunner = runner) {
      const stdout: string[] = [];
      const stderr: string[] = [];
      const messages: string[] = [];
      const result: RunnerResult = await using.run({
        command: ['/bin/sh', '-c', script],
        workingDir,
        outputDir,
        env: {},
        signal: new AbortController().signal,
        onLine: (stream, line) => {
          (stream === 'stdout' ? stdout : stderr).push(line);
        },
        containerImage: BUSYBOX,
        options: { networkMode: 'none', ...options },
        labels: { [DOCKER_TASK_LABEL]: RUN_LABEL },
        log: (_level, message) => messages.push(message),
        ...extra,
      });
      return { result, stdout, stderr, messages };
    }

    const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected a failure'); }, (error: unknown) => error as Error);

    it('IF_NOT_PRESENT (the default) runs a local image without pulling it', async () => {
      const { result, stdout } = await run('echo ok');
      expect(result.exitCode).toBe(0);
      expect(stdout).toEqual(['ok']);
    });

    it('NEVER with a missing image fails naming the image and the policy', async () => {
      const image = `${UNREACHABLE_REGISTRY}/baton-test/absent:1`;
      const error = await failure(run('true', { pullPolicy: 'NEVER' }, { containerImage: image }));
      expect(isRunnerError(error, 'START_FAILED')).toBe(true);
      expect(error.message).toBe(`image '${image}' is not present on the Docker engine and pullPolicy is NEVER`);
    });

    it('IF_NOT_PRESENT pulls a missing image; a failed pull is a clear error', async () => {
      const image = `${UNREACHABLE_REGISTRY}/baton-test/absent:1`;
      const { messages, error } = await (async () => {
        const messages: string[] = [];
        const error = await failure(run('true', {}, { containerImage: image, log: (_l, m) => messages.push(m) }));
        return { messages, error };
      })();
      expect(isRunnerError(error, 'START_FAILED')).toBe(true);
      expect(error.message).toContain(`cannot pull image '${image}' (pullPolicy IF_NOT_PRESENT): `);
      expect(messages).toContain(`Pulling image '${image}'`);
    });

    it('ALWAYS pulls even a present image, and reports the failed pull', async () => {
      const image = `${UNREACHABLE_REGISTRY}/baton-test/busybox:latest`;
      await docker.getImage(BUSYBOX).tag({ repo: `${UNREACHABLE_REGISTRY}/baton-test/busybox`, tag: 'latest' });
      try {
        const error = await failure(run('true', { pullPolicy: 'ALWAYS' }, { containerImage: image }));
        expect(error.message).toContain(`cannot pull image '${image}' (pullPolicy ALWAYS): `);
      } finally {
        await docker.getImage(image).remove();
      }
    });

    it('mounts volumes (read-only when asked) and refuses them unless enabled', async () => {
      const shared = await mkdtemp(join(tmpdir(), 'baton-volume-'));
      try {
        await writeFile(join(shared, 'in.txt'), 'from the host\n');
        const { result, stdout } = await run('cat /data/in.txt; touch /data/new.txt 2>/dev/null && echo writable || echo read-only', {
          volumes: [`${shared}:/data:ro`],
        });
        expect(result.exitCode).toBe(0);
        expect(stdout).toEqual(['from the host', 'read-only']);
        const error = await failure(run('true', { volumes: [`${shared}:/data`] }, {}, new DockerRunner({ volumesEnabled: false })));
        expect(isRunnerError(error, 'INVALID_JOB')).toBe(true);
        expect(error.message).toContain('BATON_DOCKER_VOLUMES_ENABLED=true');
      } finally {
        await rm(shared, { recursive: true, force: true });
      }
    });

    it('passes the job environment on top of the image environment', async () => {
      const { stdout } = await run('echo "$GREETING|$WORKING_DIR|$PATH"', {}, { env: { GREETING: 'hé llo', WORKING_DIR: '/somewhere' } });
      expect(stdout).toEqual(['hé llo|/somewhere|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    });

    it('runs as another user who can write the working directory; the host can read and delete the files', async () => {
      await writeFile(join(workingDir, 'input.txt'), 'in\n');
      for (const user of ['65534:65534', 'nobody']) {
        const { result, stdout } = await run(`id -u; echo "$(cat input.txt) as ${user}" > "out/by-${user}.txt"; mkdir -p sub/deeper && echo x > sub/deeper/f`, { user });
        expect(result.exitCode).toBe(0);
        expect(stdout).toEqual(['65534']);
        expect(await readFile(join(outputDir, `by-${user}.txt`), 'utf8')).toBe(`in as ${user}\n`);
        await rm(join(workingDir, 'sub'), { recursive: true });
      }
      expect((await stat(join(outputDir, 'by-65534:65534.txt'))).uid).toBe(65534);
    });

    it('networkMode none leaves only the loopback interface', async () => {
      const { stdout } = await run('ls /sys/class/net');
      expect(stdout).toEqual(['lo']);
    });

    it('without networkMode, uses the engine default, or host on an engine without a bridge network', async () => {
      const hasBridge = await docker.getNetwork('bridge').inspect().then(() => true, () => false);
      const { result, messages, stdout } = await run('ls /sys/class/net | wc -l', { networkMode: undefined });
      expect(result.exitCode).toBe(0);
      if (!hasBridge) {
        expect(messages).toContain("The Docker engine has no 'bridge' network: the container uses networkMode 'host'");
        expect(Number(stdout[0])).toBeGreaterThan(1);
      }
    });

    it('applies memory and cpu limits', async () => {
      const script = [
        'if [ -f /sys/fs/cgroup/memory.max ]; then cat /sys/fs/cgroup/memory.max; cat /sys/fs/cgroup/cpu.max;',
        'else cat /sys/fs/cgroup/memory/memory.limit_in_bytes; echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"; fi',
      ].join(' ');
      const { stdout } = await run(script, { memory: { memory: '64MB' }, cpu: { cpus: 0.5 } });
      expect(stdout).toEqual([String(64 * 1024 * 1024), '50000 100000']);
    });

    it('removes a killed container before returning', async () => {
      const controller = new AbortController();
      const { result } = await run('echo started; sleep 30', {}, {
        signal: controller.signal,
        onLine: () => controller.abort(),
      });
      expect(result.killed).toBe(true);
      expect(await leftovers()).toEqual([]);
    });

    it('removes the container when a line consumer throws, and rethrows its error', async () => {
      const error = await failure(run('echo a; echo b; sleep 1; echo c', {}, {
        onLine: (_s, line) => {
          if (line === 'b') throw new Error('consumer broke on b');
        },
      }));
      expect(error.message).toBe('consumer broke on b');
      expect(await leftovers()).toEqual([]);
    });

    it('keeps the container with delete: false', async () => {
      const { result } = await run('exit 4', { delete: false });
      expect(result.exitCode).toBe(4);
      const kept = await docker.listContainers({ all: true, filters: { label: [`${DOCKER_TASK_LABEL}=${RUN_LABEL}`] } });
      expect(kept.map((c) => c.State)).toEqual(['exited']);
      await Promise.all(kept.map((c) => docker.getContainer(c.Id).remove()));
    });

    it('demultiplexes interleaved stdout and stderr, large writes included', async () => {
      const big = 200_000;
      const { stdout, stderr } = await run(
        `i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo "o$i"; echo "e$i" >&2; done; head -c ${big} /dev/zero | tr '\\0' y; echo; echo end >&2`,
      );
      expect(stdout.length).toBe(2001);
      expect(stdout.slice(0, 2000).every((l, i) => l === `o${i + 1}`)).toBe(true);
      expect(stdout[2000]).toBe('y'.repeat(big));
      expect(stderr.length).toBe(2001);
      expect(stderr.slice(0, 2000).every((l, i) => l === `e${i + 1}`)).toBe(true);
      expect(stderr[2000]).toBe('end');
    });

    it('fails clearly for an unreachable engine; a program missing from the image exits 127', async () => {
      const nowhere = new DockerRunner({ host: 'unix:///nonexistent/docker.sock' });
      expect(await nowhere.isAvailable()).toBe(false);
      const unreachable = await failure(run('true', {}, {}, nowhere));
      expect(unreachable.message).toContain('cannot reach the Docker engine at unix:///nonexistent/docker.sock');
      // The container's init starts, then cannot exec the program: a shell's "not found" status and its message.
      const stderr: string[] = [];
      const missing = await runner.run({
        command: ['/no/such/program'], workingDir, outputDir, env: {}, signal: new AbortController().signal,
        onLine: (_stream, line) => { stderr.push(line); },
        containerImage: BUSYBOX, options: { networkMode: 'none' }, labels: { [DOCKER_TASK_LABEL]: RUN_LABEL },
      });
      expect(missing).toEqual({ exitCode: 127, killed: false });
      expect(stderr.join('\n')).toContain('/no/such/program');
    });
  });

  describe('default runner choice', () => {
    it('prefers Docker when an engine answers, else Process; the variable and an explicit Process win', async () => {
      expect((await resolveRunner(undefined, {})).type).toBe(DOCKER_RUNNER_TYPE);
      expect((await resolveRunner(undefined, { BATON_DEFAULT_TASK_RUNNER: PROCESS_RUNNER_TYPE })).type).toBe(PROCESS_RUNNER_TYPE);
      expect((await resolveRunner({ type: PROCESS_RUNNER_TYPE }, {})).type).toBe(PROCESS_RUNNER_TYPE);
      const withoutEngine = [new DockerRunner({ host: 'unix:///nonexistent/docker.sock' }), new ProcessRunner()];
      expect((await resolveRunner(undefined, {}, withoutEngine)).type).toBe(PROCESS_RUNNER_TYPE);
    });
  });

  describe('through the engine', () => {
    let database: Database;
    let engine: Engine;

    beforeAll(async () => {
      database = await openDatabase({ url: 'memory://' });
      const dataDir = await mkdtemp(join(tmpdir(), 'baton-docker-engine-'));
      // Docker is the default runner here, as on a server with a Docker engine.
      engine = createEngine({ db: database.db, dataDir, env: { BATON_DEFAULT_TASK_RUNNER: '' } });
    });
    afterAll(async () => {
      await database?.close();
    });

    it('runs python.Script in the python image: env, outputs protocol, inputFiles and outputFiles', async () => {
      const source = `
id: docker_python
namespace: baton.tests
inputs:
  - id: columns_to_keep
    type: ARRAY
    itemType: STRING
    defaults: [brand, price]
tasks:
  - id: products
    type: io.kestra.plugin.core.output.OutputValues
    values:
      json: '{"products": [{"brand": "a", "price": 1, "title": "x"}, {"brand": "b", "price": 2, "title": "y"}]}'
  - id: transform
    type: io.kestra.plugin.scripts.python.Script
    containerImage: ${PYTHON}
    taskRunner:
      type: ${DOCKER_RUNNER_TYPE}
      networkMode: none
    inputFiles:
      data.json: "{{ outputs.products.values.json }}"
    outputFiles:
      - "*.json"
    env:
      COLUMNS_TO_KEEP: "{{ inputs.columns_to_keep }}"
    script: |
      import json, os
      columns = json.loads(os.getenv("COLUMNS_TO_KEEP"))
      with open("data.json") as f:
          data = json.load(f)
      rows = [{k: p[k] for k in columns if k in p} for p in data["products"]]
      with open("products.json", "w") as f:
          json.dump(rows, f)
      print("kept", len(rows), "rows in", os.getcwd() == os.environ["WORKING_DIR"])
      print("::" + json.dumps({"outputs": {"count": len(rows)}}) + "::")
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: ${BUSYBOX}
    taskRunner:
      type: ${DOCKER_RUNNER_TYPE}
      networkMode: none
    commands:
      - echo "in a container? $(test -f /.dockerenv && echo yes || echo no)"
`;
      const { flow, problems } = validateFlowSource(source, 'docker_python.yaml');
      expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
      const logs: LogEntry[] = [];
      const stop = engine.onLog((l) => logs.push(l));
      try {
        const execution = await engine.execute({ flow: flow!, inputs: {} });
        await engine.idle();
        expect(execution.state.current).toBe('SUCCESS');
        const transform = execution.taskRunList.find((t) => t.taskId === 'transform')!;
        expect(transform.outputs).toMatchObject({ exitCode: 0, vars: { count: 2 } });
        const uri = (transform.outputs as { outputFiles: Record<string, string> }).outputFiles['products.json'];
        expect(JSON.parse((await engine.resources.storage.readBuffer(uri)).toString())).toEqual([{ brand: 'a', price: 1 }, { brand: 'b', price: 2 }]);
        expect(logs.some((l) => l.taskId === 'transform' && l.message === 'kept 2 rows in True')).toBe(true);
        expect(logs.some((l) => l.taskId === 'shell' && l.message === 'in a container? yes')).toBe(true);
      } finally {
        stop();
      }
    });

    it('picks Docker for a task without taskRunner when an engine answers', async () => {
      const source = `
id: docker_default
namespace: baton.tests
tasks:
  - id: where
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: ${BUSYBOX}
    commands:
      - echo "in a container? $(test -f /.dockerenv && echo yes || echo no)"
`;
      const { flow } = validateFlowSource(source, 'docker_default.yaml');
      const logs: LogEntry[] = [];
      const stop = engine.onLog((l) => logs.push(l));
      try {
        const execution = await engine.execute({ flow: flow!, inputs: {} });
        await engine.idle();
        expect(execution.state.current).toBe('SUCCESS');
        expect(logs.filter((l) => l.taskId === 'where').map((l) => l.message)).toContain('in a container? yes');
      } finally {
        stop();
      }
      // Engine-run containers carry the task id; none may remain.
      const rest = await docker.listContainers({ all: true, filters: { label: [`${DOCKER_TASK_LABEL}=where`, 'baton.flow=docker_default'] } });
      expect(rest).toEqual([]);
    });
  });
});
