/**
 * The Docker runner's `taskRunner` properties (Kestra's Docker task runner), checked and turned into
 * the engine API's container settings. Values may arrive as strings from expressions ("1.5", "true").
 * A bad value is a RunnerError naming the property, e.g. `taskRunner.memory.memory`.
 */
import { isAbsolute } from 'node:path';
import { InvalidDurationError, parseIsoDuration } from '../duration.ts';
import { Empty, Enum, Type, type PluginDefinition } from '../contract/index.ts';
import { RunnerError } from './types.ts';

export type PullPolicy = 'IF_NOT_PRESENT' | 'ALWAYS' | 'NEVER';
const PULL_POLICIES: readonly PullPolicy[] = ['IF_NOT_PRESENT', 'ALWAYS', 'NEVER'];

const stringList = () => Type.Array(Type.String());
/** A size such as 512MB, 1GB or a number of bytes (see parseBytes). */
const size = () => Type.Union([Type.String(), Type.Number()]);
const bool = () => Type.Union([Type.Boolean(), Type.String()]);

/**
 * The Docker runner's `taskRunner` properties: every property of Kestra's Docker task runner, so a
 * Kestra flow validates unchanged, and nothing else — a misspelt one is refused, not ignored.
 * `fileHandlingStrategy` and `resume` are accepted and have no effect here (Baton always binds the
 * working directory and starts a new container).
 */
export const DOCKER_RUNNER_PROPERTIES = Type.Object({
  host: Type.Optional(Type.String({ description: 'Docker API URI (unix:///… or tcp://host:port); DOCKER_HOST or the local socket by default.' })),
  config: Type.Optional(Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())], { description: 'A Docker config file (JSON) whose auths log in to registries.' })),
  credentials: Type.Optional(Type.Object({
    registry: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    auth: Type.Optional(Type.String()),
    registryToken: Type.Optional(Type.String()),
    identityToken: Type.Optional(Type.String()),
  }, { additionalProperties: false, description: 'Login to the registry of the image.' })),
  image: Type.Optional(Type.String({ description: "Overrides the task's containerImage (from the deprecated docker.image)." })),
  user: Type.Optional(Type.String({ description: 'User in the container.' })),
  entryPoint: Type.Optional(stringList()),
  extraHosts: Type.Optional(stringList()),
  networkMode: Type.Optional(Type.String({ description: 'host, none, bridge or a network name.' })),
  portBindings: Type.Optional(stringList()),
  volumes: Type.Optional(Type.Array(Type.String(), { description: '/host/path:/container/path[:ro]' })),
  pullPolicy: Type.Optional(Enum(PULL_POLICIES, { description: 'When to pull the image (IF_NOT_PRESENT by default).' })),
  deviceRequests: Type.Optional(Type.Array(Type.Object({
    driver: Type.Optional(Type.String()),
    count: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
    deviceIds: Type.Optional(stringList()),
    capabilities: Type.Optional(Type.Array(stringList())),
    options: Type.Optional(Type.Record(Type.String(), Type.String())),
  }, { additionalProperties: false }))),
  cpu: Type.Optional(Type.Object({ cpus: Type.Optional(Type.Union([Type.Number(), Type.String()])) }, { additionalProperties: false })),
  memory: Type.Optional(Type.Object({
    memory: Type.Optional(size()),
    memorySwap: Type.Optional(size()),
    memorySwappiness: Type.Optional(Type.Union([Type.Number(), Type.String()])),
    memoryReservation: Type.Optional(size()),
    kernelMemory: Type.Optional(size()),
    oomKillDisable: Type.Optional(bool()),
  }, { additionalProperties: false })),
  shmSize: Type.Optional(size()),
  privileged: Type.Optional(bool()),
  fileHandlingStrategy: Type.Optional(Enum(['VOLUME', 'MOUNT'], { description: 'Accepted for Kestra compatibility: Baton binds the working directory.' })),
  delete: Type.Optional(bool()),
  wait: Type.Optional(bool()),
  killGracePeriod: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: 'SIGTERM to SIGKILL grace on kill, ISO-8601.' })),
  resume: Type.Optional(bool()),
}, { additionalProperties: false });

/** The Docker task runner's definition in the plugin contract (its behaviour is docker.ts). */
export const DOCKER_RUNNER_DEFINITION: PluginDefinition<typeof DOCKER_RUNNER_PROPERTIES> = {
  type: 'io.kestra.plugin.scripts.runner.docker.Docker',
  aliases: ['io.kestra.plugin.scripts.runner.docker.DockerTaskRunner'],
  title: 'Run commands in Docker containers',
  description: "Runs a script task's commands in a container of the task's `containerImage`, pulled as `pullPolicy` says, with the working directory bound in, CPU and memory limits, volumes, ports and devices. Kestra's default runner; Baton chooses it when a Docker engine answers.",
  properties: DOCKER_RUNNER_PROPERTIES,
  outputs: Empty(),
  examples: [{ title: 'One CPU, 512 MB', code: 'type: io.kestra.plugin.scripts.runner.docker.Docker\npullPolicy: IF_NOT_PRESENT\ncpu:\n  cpus: 1\nmemory:\n  memory: 512MB' }],
};

/** Kestra's `credentials`: a login for the registry of the image. */
export interface RegistryCredentials {
  registry?: string;
  username?: string;
  password?: string;
  /** base64 of `username:password`, as in a Docker config file. */
  auth?: string;
  registryToken?: string;
  identityToken?: string;
}

/** Everything the runner needs about one task's container, validated. */
export interface DockerTaskOptions {
  image: string;
  /** Docker API URI (`unix:///…`, `tcp://host:port`); undefined: DOCKER_HOST or the default socket. */
  host?: string;
  pullPolicy: PullPolicy;
  /** Overrides the image's entrypoint; Kestra's default `[""]` clears it so the command runs as given. */
  entryPoint: string[];
  user?: string;
  /** Undefined: the engine's default network (or `host` where that does not exist; see docker.ts). */
  networkMode?: string;
  /** Docker bind specs `host:container[:options]`. */
  volumes: string[];
  extraHosts: string[];
  exposedPorts: Record<string, Record<string, never>>;
  portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  nanoCpus?: number;
  memory?: number;
  memorySwap?: number;
  memorySwappiness?: number;
  memoryReservation?: number;
  kernelMemory?: number;
  oomKillDisable?: boolean;
  shmSize?: number;
  privileged: boolean;
  deviceRequests: Array<Record<string, unknown>>;
  /** Remove the container once it ended (Kestra's `delete`, default true). */
  delete: boolean;
  /** SIGTERM→SIGKILL grace on kill (Kestra's `killGracePeriod`); undefined: the runner's default. */
  killGraceMs?: number;
  credentials?: RegistryCredentials;
  /** A Docker config file (JSON text or object) whose `auths` hold registry logins. */
  config?: string | Record<string, unknown>;
}

/** Parses the `taskRunner` block plus the task's `containerImage`. */
export function parseDockerOptions(options: Record<string, unknown>, containerImage: string | undefined): DockerTaskOptions {
  const at = (name: string) => `taskRunner.${name}`;
  // Kestra: the runner's own `image` (from the deprecated `docker.image`) wins over `containerImage`.
  const image = optionalString(options.image, at('image')) ?? containerImage?.trim();
  if (!image) {
    throw new RunnerError('INVALID_JOB', 'the Docker task runner needs an image: set the task\'s `containerImage` property');
  }
  const cpu = optionalObject(options.cpu, at('cpu'));
  const memory = optionalObject(options.memory, at('memory'));
  const parsed: DockerTaskOptions = {
    image,
    host: optionalString(options.host, at('host')),
    pullPolicy: pullPolicy(options.pullPolicy),
    entryPoint: optionalStringList(options.entryPoint, at('entryPoint')) ?? [''],
    user: optionalString(options.user, at('user')),
    networkMode: optionalString(options.networkMode, at('networkMode')),
    volumes: (optionalStringList(options.volumes, at('volumes')) ?? []).map((v) => checkVolume(v, at('volumes'))),
    extraHosts: optionalStringList(options.extraHosts, at('extraHosts')) ?? [],
    exposedPorts: {},
    portBindings: {},
    privileged: optionalBoolean(options.privileged, at('privileged')) ?? false,
    deviceRequests: deviceRequests(options.deviceRequests, at('deviceRequests')),
    delete: optionalBoolean(options.delete, at('delete')) ?? true,
    credentials: optionalObject(options.credentials, at('credentials')) as RegistryCredentials | undefined,
    config: options.config == null ? undefined : (typeof options.config === 'string' ? options.config : optionalObject(options.config, at('config'))),
  };
  for (const spec of optionalStringList(options.portBindings, at('portBindings')) ?? []) {
    const { containerPort, hostIp, hostPort } = portBinding(spec, at('portBindings'));
    parsed.exposedPorts[containerPort] = {};
    (parsed.portBindings[containerPort] ??= []).push({ HostIp: hostIp, HostPort: hostPort });
  }
  if (cpu?.cpus != null) {
    const cpus = number(cpu.cpus, at('cpu.cpus'));
    if (!(cpus > 0)) throw invalid(at('cpu.cpus'), cpu.cpus, 'must be a positive number of CPUs');
    parsed.nanoCpus = Math.round(cpus * 1e9);
  }
  if (memory) {
    parsed.memory = optionalBytes(memory.memory, at('memory.memory'));
    parsed.memorySwap = optionalBytes(memory.memorySwap, at('memory.memorySwap'), true);
    parsed.memoryReservation = optionalBytes(memory.memoryReservation, at('memory.memoryReservation'));
    parsed.kernelMemory = optionalBytes(memory.kernelMemory, at('memory.kernelMemory'));
    if (memory.memorySwappiness != null) parsed.memorySwappiness = number(memory.memorySwappiness, at('memory.memorySwappiness'));
    parsed.oomKillDisable = optionalBoolean(memory.oomKillDisable, at('memory.oomKillDisable'));
  }
  parsed.shmSize = optionalBytes(options.shmSize, at('shmSize'));
  if (options.killGracePeriod != null) parsed.killGraceMs = duration(options.killGracePeriod, at('killGracePeriod'));
  if (options.wait != null && optionalBoolean(options.wait, at('wait')) === false) {
    throw invalid(at('wait'), options.wait, 'is not supported: Baton always waits for the container to end');
  }
  return parsed;
}

/**
 * Bytes in a human size as Kestra reads them (Micronaut's readable bytes): `512MB`, `512Mb`, `1GB`,
 * `2048KB`, a plain number of bytes; units are powers of 1024. Also `1.5g`, `256MiB`, `64m`.
 */
export function parseBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|(b))?\s*$/i.exec(value);
  if (!match) return undefined;
  const power = match[2] ? 'kmgt'.indexOf(match[2].toLowerCase()) + 1 : 0;
  return Math.round(Number(match[1]) * 1024 ** power);
}

function pullPolicy(value: unknown): PullPolicy {
  if (value == null || value === '') return 'IF_NOT_PRESENT';
  const policy = String(value).trim().toUpperCase();
  if ((PULL_POLICIES as readonly string[]).includes(policy)) return policy as PullPolicy;
  throw invalid('taskRunner.pullPolicy', value, `must be one of ${PULL_POLICIES.join(', ')}`);
}

/** A bind of a host path (absolute) or a named volume onto an absolute container path. */
function checkVolume(spec: string, property: string): string {
  const [source, target] = spec.split(':');
  if (!source || !target || !isAbsolute(target)) {
    throw invalid(property, spec, 'must look like /host/path:/container/path[:ro]');
  }
  return spec;
}

/** `[ip:]hostPort:containerPort[/protocol]` or `containerPort[/protocol]` (a random host port). */
function portBinding(spec: string, property: string): { containerPort: string; hostIp: string; hostPort: string } {
  const [ports, protocol = 'tcp'] = spec.split('/');
  const parts = ports.split(':');
  const containerPort = parts.pop();
  const hostPort = parts.pop() ?? '';
  const hostIp = parts.join(':');
  if (!containerPort || !/^\d+$/.test(containerPort) || (hostPort && !/^\d+$/.test(hostPort)) || !/^(tcp|udp|sctp)$/.test(protocol)) {
    throw invalid(property, spec, 'must look like [ip:]hostPort:containerPort[/tcp|udp]');
  }
  return { containerPort: `${containerPort}/${protocol}`, hostIp, hostPort };
}

function deviceRequests(value: unknown, property: string): Array<Record<string, unknown>> {
  if (value == null) return [];
  if (!Array.isArray(value)) throw invalid(property, value, 'must be a list');
  return value.map((request, i) => {
    const r = optionalObject(request, `${property}[${i}]`) ?? {};
    const out: Record<string, unknown> = {};
    if (r.driver != null) out.Driver = String(r.driver);
    if (r.count != null) out.Count = number(r.count, `${property}[${i}].count`);
    if (r.deviceIds != null) out.DeviceIDs = optionalStringList(r.deviceIds, `${property}[${i}].deviceIds`);
    if (r.capabilities != null) out.Capabilities = r.capabilities;
    if (r.options != null) out.Options = r.options;
    return out;
  });
}

function optionalString(value: unknown, property: string): string | undefined {
  if (value == null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw invalid(property, value, 'must be a string');
}

function optionalStringList(value: unknown, property: string): string[] | undefined {
  if (value == null) return undefined;
  let list = value;
  if (typeof value === 'string') {
    // An expression may have rendered a list to its JSON text.
    try {
      list = value.trim().startsWith('[') ? JSON.parse(value) : [value];
    } catch {
      list = [value];
    }
  }
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' && typeof v !== 'number')) {
    throw invalid(property, value, 'must be a list of strings');
  }
  return list.map(String);
}

function optionalObject(value: unknown, property: string): Record<string, unknown> | undefined {
  if (value == null) return undefined;
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw invalid(property, value, 'must be an object');
}

function optionalBoolean(value: unknown, property: string): boolean | undefined {
  if (value == null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw invalid(property, value, 'must be true or false');
}

function number(value: unknown, property: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw invalid(property, value, 'must be a number');
  return n;
}

/** `allowUnlimited`: Docker takes -1 for "no limit" on swap. */
function optionalBytes(value: unknown, property: string, allowUnlimited = false): number | undefined {
  if (value == null || value === '') return undefined;
  if (allowUnlimited && (value === -1 || value === '-1')) return -1;
  const bytes = parseBytes(value);
  if (bytes === undefined) throw invalid(property, value, 'must be a size such as 512MB, 1GB or a number of bytes');
  return bytes;
}

function duration(value: unknown, property: string): number {
  // Jackson reads a bare number as seconds.
  if (typeof value === 'number' && value >= 0) return Math.round(value * 1000);
  try {
    return parseIsoDuration(String(value));
  } catch (error) {
    if (error instanceof InvalidDurationError) throw invalid(property, value, 'must be an ISO-8601 duration such as PT10S');
    throw error;
  }
}

function invalid(property: string, value: unknown, why: string): RunnerError {
  return new RunnerError('INVALID_JOB', `${property}: ${JSON.stringify(value)} ${why}`);
}
