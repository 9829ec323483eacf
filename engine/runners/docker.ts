import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type Dockerode from 'dockerode';
import type { ContainerCreateOptions } from 'dockerode';
import { DockerFrameParser } from './docker-frames.ts';
import { parseDockerOptions, type DockerTaskOptions } from './docker-options.ts';
import { engineMessage, pullImage, registryAuth } from './docker-pull.ts';
import { LineSplitter } from './line-splitter.ts';
import { DEFAULT_KILL_GRACE_MS } from './process.ts';
import { RunnerError, type OutputStream, type RunnerJob, type RunnerResult, type TaskRunner } from './types.ts';
import { nextTurn } from '../event-loop-turns.ts';

export const DOCKER_RUNNER_TYPE = 'io.kestra.plugin.scripts.runner.docker.Docker';

/** Set to `true` to allow `taskRunner.volumes` (host paths mounted into task containers). */
export const DOCKER_VOLUMES_VARIABLE = 'BATON_DOCKER_VOLUMES_ENABLED';

/** Every container Baton starts carries this label (value: the task id), so leftovers can be found. */
export const DOCKER_TASK_LABEL = 'baton.task';

/** How long an answer about the engine (reachable? has a `bridge` network?) is reused. */
const DEFAULT_ENGINE_FACTS_TTL_MS = 10_000;
const PING_TIMEOUT_MS = 2_000;
/** How long clean-up waits for a removal the engine already started. */
const REMOVAL_WAIT_MS = 10_000;

// dockerode and its dependencies cost ~10 MB and ~0.1 s to load: only a process that talks to a
// Docker engine loads them.
let dockerodeModule: Promise<typeof Dockerode> | undefined;
function loadDockerode(): Promise<typeof Dockerode> {
  dockerodeModule ??= import('dockerode').then((module) => module.default);
  return dockerodeModule;
}

export interface DockerRunnerOptions {
  /** SIGTERM→SIGKILL grace when a task is killed, unless the task sets `killGracePeriod`; default 5 s. */
  killGraceMs?: number;
  /** Allow `taskRunner.volumes`; default: the BATON_DOCKER_VOLUMES_ENABLED variable. */
  volumesEnabled?: boolean;
  /** How long isAvailable() and the default-network probe are cached; default 10 s. */
  engineFactsTtlMs?: number;
  /** Engine address when a task names none; default DOCKER_HOST, else the default socket. */
  host?: string;
}

/**
 * `io.kestra.plugin.scripts.runner.docker.Docker`: runs the command in a fresh container of the task's
 * `containerImage`. The working directory is bind-mounted at the same path, so WORKING_DIR,
 * OUTPUT_DIR and every rendered path mean the same inside and out, and files come back through the
 * mount. The container's PID 1 is Docker's init, which passes SIGTERM on and, when the command ends,
 * takes whatever it left running with it. Containers are removed by the engine once they end
 * (`AutoRemove`), so even a Baton crash leaves none behind once the command finishes.
 */
export class DockerRunner implements TaskRunner {
  readonly type = DOCKER_RUNNER_TYPE;
  private readonly killGraceMs: number;
  private readonly volumesEnabled: boolean;
  private readonly factsTtlMs: number;
  private readonly defaultHost?: string;
  private readonly engines = new Map<string, DockerEngine>();

  constructor(options: DockerRunnerOptions = {}) {
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.volumesEnabled = options.volumesEnabled ?? (process.env[DOCKER_VOLUMES_VARIABLE] ?? '').toLowerCase() === 'true';
    this.factsTtlMs = options.engineFactsTtlMs ?? DEFAULT_ENGINE_FACTS_TTL_MS;
    this.defaultHost = options.host;
  }

  /** A Docker engine answers a ping (DOCKER_HOST, else the default socket); cached briefly. */
  async isAvailable(): Promise<boolean> {
    try {
      return (await (await this.engine(undefined)).reachable()) === undefined;
    } catch {
      // A malformed DOCKER_HOST means no usable engine; the next runner of the preference is chosen.
      return false;
    }
  }

  async run(job: RunnerJob): Promise<RunnerResult> {
    if (job.command.length === 0 || !job.command[0]) throw new RunnerError('INVALID_JOB', 'the command to run is empty');
    const options = parseDockerOptions(job.options, job.containerImage);
    if (options.volumes.length > 0 && !this.volumesEnabled) {
      throw new RunnerError(
        'INVALID_JOB',
        `taskRunner.volumes: mounting host paths into task containers is disabled; set ${DOCKER_VOLUMES_VARIABLE}=true on the Baton server to allow it`,
      );
    }
    if (job.signal.aborted) return { exitCode: 128 + 15, killed: true };

    const engine = await this.engine(options.host);
    const networkMode = options.networkMode ?? (await engine.defaultNetworkMode(job));
    if (options.user) await shareWorkingDirWith(job.workingDir, options.user);
    let container: Dockerode.Container;
    try {
      if (options.pullPolicy === 'ALWAYS') await engine.pull(options, job);
      if (job.signal.aborted) return { exitCode: 128 + 15, killed: true };
      container = await engine.createContainer(containerSpec(job, options, networkMode), options, job);
    } catch (error) {
      // Killed while pulling: the task stops like a killed command, not as a failed start.
      if (job.signal.aborted) return { exitCode: 128 + 15, killed: true };
      throw error;
    }
    return new ContainerRun(engine, container, job, options, options.killGraceMs ?? this.killGraceMs).run();
  }

  private async engine(host: string | undefined): Promise<DockerEngine> {
    const key = host ?? this.defaultHost ?? '';
    let engine = this.engines.get(key);
    if (!engine) {
      const Client = await loadDockerode();
      engine = this.engines.get(key);
      if (engine) return engine;
      try {
        engine = new DockerEngine(new Client(...clientArguments(host ?? this.defaultHost)), host ?? this.defaultHost, this.factsTtlMs);
      } catch (error) {
        if (error instanceof RunnerError) throw error;
        throw new RunnerError('START_FAILED', `cannot use the Docker engine address: ${(error as Error).message}`, { cause: error });
      }
      this.engines.set(key, engine);
    }
    return engine;
  }
}

/** One engine address: its client and what was learned about it, for a short while. */
class DockerEngine {
  readonly docker: Dockerode;
  readonly address: string;
  private reachability?: { at: number; answer: Promise<string | undefined> };
  private network?: { at: number; mode: Promise<string | undefined> };

  constructor(docker: Dockerode, host: string | undefined, private readonly ttlMs: number) {
    this.docker = docker;
    const modem = this.docker.modem as { socketPath?: unknown; host?: string; port?: string | number; protocol?: string };
    this.address = host ?? (typeof modem.socketPath === 'string' ? `unix://${modem.socketPath}` : modem.host ? `${modem.protocol}://${modem.host}:${modem.port}` : 'the default socket');
  }

  /** Undefined when the engine answers a ping, else why not. */
  reachable(): Promise<string | undefined> {
    const now = Date.now();
    if (!this.reachability || now - this.reachability.at > this.ttlMs) {
      // dockerode takes an abort signal here; its type definitions do not say so.
      const ping = this.docker.ping.bind(this.docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
      const answer = ping({ abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS) })
        .then(() => undefined, (error: unknown) => engineMessage(error));
      this.reachability = { at: now, answer };
    }
    return this.reachability.answer;
  }

  /**
   * Kestra leaves `networkMode` unset, i.e. Docker's default `bridge` network. An engine started
   * without it (`dockerd --bridge=none`) would refuse every such container, so there tasks get
   * `host`: they keep the network access they would have had, and the Process runner has no more.
   */
  async defaultNetworkMode(job: RunnerJob): Promise<string | undefined> {
    const now = Date.now();
    if (!this.network || now - this.network.at > this.ttlMs) {
      const mode = this.docker
        .getNetwork('bridge')
        .inspect()
        .then(
          () => undefined,
          (error: { statusCode?: number }) => {
            if (error?.statusCode === 404) return 'host';
            throw this.failure(`cannot inspect the Docker engine's networks at ${this.address}`, error);
          },
        );
      this.network = { at: now, mode };
      mode.catch(() => { this.network = undefined; });
    }
    const mode = await this.network.mode;
    if (mode === 'host') job.log?.('debug', "The Docker engine has no 'bridge' network: the container uses networkMode 'host'");
    return mode;
  }

  /**
   * Creates the container; a missing image is pulled first unless the policy is NEVER. Creating
   * first and pulling only on "no such image" spares the usual case an image inspection.
   */
  async createContainer(spec: ContainerCreateOptions, options: DockerTaskOptions, job: RunnerJob): Promise<Dockerode.Container> {
    try {
      return await this.docker.createContainer(spec);
    } catch (error) {
      if (!isMissingImage(error)) throw this.failure(`cannot create a container of '${options.image}'`, error);
    }
    if (options.pullPolicy === 'NEVER') {
      throw new RunnerError('START_FAILED', `image '${options.image}' is not present on the Docker engine and pullPolicy is NEVER`);
    }
    await this.pull(options, job);
    try {
      return await this.docker.createContainer(spec);
    } catch (error) {
      throw this.failure(`cannot create a container of '${options.image}'`, error);
    }
  }

  /** A START_FAILED error; one that never got an answer from the engine says the engine is unreachable. */
  failure(what: string, error: unknown): RunnerError {
    const message = engineMessage(error);
    if ((error as { statusCode?: number })?.statusCode === undefined) {
      return new RunnerError('START_FAILED', `cannot reach the Docker engine at ${this.address}: ${message}`, { cause: error });
    }
    const hint = /network .* not found/i.test(message) ? ' (set taskRunner.networkMode to a network this engine has, e.g. host or none)' : '';
    return new RunnerError('START_FAILED', `${what}: ${message}${hint}`, { cause: error });
  }

  async pull(options: DockerTaskOptions, job: RunnerJob): Promise<void> {
    job.log?.('info', `Pulling image '${options.image}'`);
    const auth = registryAuth(options.image, options.credentials, options.config);
    await pullImage(this.docker, options.image, options.pullPolicy, auth, job.signal);
  }
}

/** The life of one container: attach, wait, start, stream output, stop on abort, and always clean up. */
class ContainerRun {
  private killed = false;
  private exited = false;
  private removed = false;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Cancels the attach and wait requests if we leave early. */
  private readonly requests = new AbortController();

  constructor(
    private readonly engine: DockerEngine,
    private readonly container: Dockerode.Container,
    private readonly job: RunnerJob,
    private readonly options: DockerTaskOptions,
    private readonly killGraceMs: number,
  ) {}

  async run(): Promise<RunnerResult> {
    const onAbort = () => this.stop();
    try {
      // Both before start: output written at once is not missed, and an exit is not missed either.
      const output = await this.dial(`/containers/${this.container.id}/attach?`, { stream: true, stdout: true, stderr: true });
      const waitBody = await this.dial(`/containers/${this.container.id}/wait?`, { condition: this.options.delete ? 'removed' : 'next-exit' });
      if (this.job.signal.aborted) return { exitCode: 128 + 15, killed: true };
      try {
        await this.container.start();
      } catch (error) {
        throw new RunnerError('START_FAILED', `cannot start a container of '${this.options.image}' for '${this.job.command[0]}': ${engineMessage(error)}`, { cause: error });
      }
      this.job.signal.addEventListener('abort', onAbort, { once: true });
      if (this.job.signal.aborted) onAbort();
      const status = readStatus(waitBody);
      // A failed pump (a consumer that threw, a broken stream) goes straight to the clean-up, which
      // stops the container if it still runs; the exit status is not waited for then.
      status.catch(() => undefined);
      await pumpFrames(output, this.job);
      const exitCode = await status;
      this.exited = true;
      this.removed = this.options.delete;
      return { exitCode, killed: this.killed };
    } finally {
      this.job.signal.removeEventListener('abort', onAbort);
      for (const timer of this.timers) clearTimeout(timer);
      this.requests.abort();
      await this.cleanUp();
    }
  }

  /** SIGTERM now, SIGKILL after the grace period (at once when the grace is zero). */
  private stop(): void {
    if (this.killed || this.exited) return;
    this.killed = true;
    if (this.killGraceMs <= 0) {
      void this.signal('SIGKILL');
      return;
    }
    void this.signal('SIGTERM');
    this.timers.push(setTimeout(() => void this.signal('SIGKILL'), this.killGraceMs));
  }

  private async signal(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    // A container that already ended (404 gone, 409 not running) needs no signal.
    await this.container.kill({ signal }).catch(() => undefined);
  }

  /** Whatever happened (an exception here, a consumer that threw), leave no container behind. */
  private async cleanUp(): Promise<void> {
    if (this.removed) return;
    if (this.options.delete) {
      const inProgress = await this.container.remove({ force: true, v: true }).then(
        () => false,
        (error: { statusCode?: number }) => {
          // 404: the engine's AutoRemove was first; 409: its removal is under way.
          if (error?.statusCode === 409) return true;
          if (error?.statusCode !== 404) {
            this.job.log?.('warn', `Could not remove container ${this.container.id.slice(0, 12)}: ${engineMessage(error)}`);
          }
          return false;
        },
      );
      if (inProgress) await this.untilGone();
    } else if (!this.exited) {
      await this.container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    }
  }

  /** Returns once the engine no longer knows the container (an AutoRemove under way), or after a few seconds. */
  private async untilGone(): Promise<void> {
    const deadline = Date.now() + REMOVAL_WAIT_MS;
    while (Date.now() < deadline) {
      const gone = await this.container.inspect().then(() => false, (error: { statusCode?: number }) => error?.statusCode === 404);
      if (gone) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** A streaming request whose promise resolves once the engine answered (headers), body unread. */
  private dial(path: string, query: Record<string, unknown>): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      this.engine.docker.modem.dial(
        {
          path,
          method: 'POST',
          isStream: true,
          abortSignal: this.requests.signal,
          statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
          options: query,
        },
        (error: unknown, stream: unknown) => (error ? reject(error) : resolve(stream as IncomingMessage)),
      );
    });
  }
}

/** Exit status from a wait response body (`{"StatusCode": n, "Error": …}`). */
async function readStatus(body: IncomingMessage): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: { StatusCode?: number; Error?: { Message?: string } | null };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RunnerError('START_FAILED', `unexpected answer from the Docker engine while waiting for the container: ${text.slice(0, 200)}`);
  }
  if (parsed.Error?.Message) throw new RunnerError('START_FAILED', `waiting for the container failed: ${parsed.Error.Message}`);
  return parsed.StatusCode ?? -1;
}

/** Reads the multiplexed output to its end, one line at a time per stream; awaiting async handlers pauses the socket. */
async function pumpFrames(output: IncomingMessage, job: RunnerJob): Promise<void> {
  const parser = new DockerFrameParser();
  const splitters: Record<OutputStream, LineSplitter> = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  let failure: unknown;
  const deliver = async (stream: OutputStream, lines: string[]) => {
    for (const line of lines) {
      if (failure !== undefined) return;
      try {
        const pending = job.onLine(stream, line);
        if (pending) await pending;
      } catch (error) {
        // Keep draining so the container never blocks on a full pipe; report once it has ended.
        failure = error;
      }
    }
  };
  for await (const chunk of output) {
    for (const frame of parser.push(chunk as Buffer)) await deliver(frame.stream, splitters[frame.stream].push(frame.payload));
    // Buffered output is read in microtasks: a flood would hold the event loop (and /healthz) until drained.
    await nextTurn();
  }
  await deliver('stdout', splitters.stdout.end());
  await deliver('stderr', splitters.stderr.end());
  if (failure !== undefined) throw failure;
}

/** The engine API's container settings for a job. */
function containerSpec(job: RunnerJob, options: DockerTaskOptions, networkMode: string | undefined): ContainerCreateOptions {
  return {
    Image: options.image,
    Cmd: job.command,
    // Docker reads an empty list as "keep the image's entrypoint"; [""] clears it, as Kestra intends.
    Entrypoint: options.entryPoint.length === 0 ? [''] : options.entryPoint,
    WorkingDir: job.workingDir,
    Env: Object.entries(job.env).map(([name, value]) => `${name}=${value}`),
    User: options.user,
    Labels: { ...(job.labels ?? {}), [DOCKER_TASK_LABEL]: job.labels?.[DOCKER_TASK_LABEL] ?? 'unnamed' },
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    ExposedPorts: Object.keys(options.exposedPorts).length > 0 ? options.exposedPorts : undefined,
    HostConfig: {
      // A Mount, not a Binds entry: a path with ':' or ',' stays one path.
      Mounts: [{ Type: 'bind', Source: job.workingDir, Target: job.workingDir, ReadOnly: false }],
      Binds: options.volumes.length > 0 ? options.volumes : undefined,
      NetworkMode: networkMode,
      AutoRemove: options.delete,
      Init: true,
      // Baton reads the output through the attach stream; a log file per container would only cost disk.
      LogConfig: { Type: 'none', Config: {} },
      ExtraHosts: options.extraHosts.length > 0 ? options.extraHosts : undefined,
      PortBindings: Object.keys(options.portBindings).length > 0 ? options.portBindings : undefined,
      NanoCpus: options.nanoCpus,
      Memory: options.memory,
      MemorySwap: options.memorySwap,
      MemorySwappiness: options.memorySwappiness,
      MemoryReservation: options.memoryReservation,
      KernelMemory: options.kernelMemory,
      OomKillDisable: options.oomKillDisable,
      ShmSize: options.shmSize,
      Privileged: options.privileged,
      DeviceRequests: options.deviceRequests.length > 0 ? options.deviceRequests : undefined,
    } as ContainerCreateOptions['HostConfig'],
  };
}

/**
 * A container running as another user than root must be able to write the working directory Baton
 * (root here) created. A numeric `uid[:gid]` gets ownership of it (root keeps full access anyway);
 * a user name only resolves inside the image, so then everything is opened to all users instead.
 */
async function shareWorkingDirWith(workingDir: string, user: string): Promise<void> {
  const numeric = /^(\d+)(?::(\d+))?$/.exec(user.trim());
  const isRoot = process.getuid?.() === 0;
  if (numeric && Number(numeric[1]) === 0) return;
  const visit = async (path: string, isDir: boolean) => {
    if (numeric && isRoot) {
      const uid = Number(numeric[1]);
      await lchown(path, uid, numeric[2] === undefined ? uid : Number(numeric[2]));
    } else {
      const mode = (await lstat(path)).mode & 0o7777;
      await chmod(path, isDir ? mode | 0o777 : mode | 0o666);
    }
  };
  const walk = async (dir: string): Promise<void> => {
    await visit(dir, true);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) await visit(path, false);
    }
  };
  await walk(workingDir);
}

function clientArguments(host: string | undefined): [Dockerode.DockerOptions?] {
  return host ? [clientOptions(host)] : [];
}

/** DockerOptions for a Kestra-style `host`: `unix:///path`, `tcp://host:port`, `http(s)://host:port`. */
function clientOptions(host: string): Dockerode.DockerOptions {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('npipe://')) return { socketPath: host.slice('npipe://'.length) };
  let url: URL;
  try {
    url = new URL(host.replace(/^tcp:\/\//, 'http://'));
  } catch {
    throw new RunnerError('INVALID_JOB', `taskRunner.host: '${host}' is not a Docker address (unix:///var/run/docker.sock, tcp://host:2375)`);
  }
  return { host: url.hostname, port: url.port || (url.protocol === 'https:' ? 2376 : 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' };
}

function isMissingImage(error: unknown): boolean {
  const e = error as { statusCode?: number };
  return e?.statusCode === 404 && /no such image/i.test(engineMessage(error));
}
