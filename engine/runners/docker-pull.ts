/**
 * Pulling a task's image, with the registry login Kestra's Docker runner takes (`credentials`, or
 * the `auths` of a Docker `config`). The engine reports a failed pull inside its progress stream,
 * not as an HTTP error, so the stream is read to its end and its last error is what failed.
 */
import type Dockerode from 'dockerode';
import type { AuthConfig } from 'dockerode';
import type { RegistryCredentials } from './docker-options.ts';
import { RunnerError } from './types.ts';

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** The registry host of an image reference (`docker.io` for `python:3.11` or `library/python`). */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return DOCKER_HUB;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : DOCKER_HUB;
}

/** The login for the image's registry, if `credentials` or `config` provide one. */
export function registryAuth(
  image: string,
  credentials: RegistryCredentials | undefined,
  config: string | Record<string, unknown> | undefined,
): AuthConfig | undefined {
  const registry = registryOf(image);
  if (credentials && (!credentials.registry || sameRegistry(credentials.registry, registry))) {
    const auth = loginOf(credentials as Record<string, unknown>, registry);
    if (auth) return auth;
  }
  if (config === undefined) return undefined;
  let parsed: Record<string, unknown>;
  try {
    parsed = typeof config === 'string' ? JSON.parse(config) : config;
  } catch (error) {
    throw new RunnerError('INVALID_JOB', `taskRunner.config: not a JSON Docker config file (${(error as Error).message})`);
  }
  const auths = (parsed.auths ?? {}) as Record<string, Record<string, unknown>>;
  for (const [key, entry] of Object.entries(auths)) {
    if (sameRegistry(key, registry)) return loginOf(entry ?? {}, registry);
  }
  return undefined;
}

/**
 * Pulls `image` (the `latest` tag when none is given). Rejects with START_FAILED naming the image
 * and the policy that asked for the pull.
 */
export async function pullImage(
  docker: Dockerode,
  image: string,
  policy: string,
  auth: AuthConfig | undefined,
  signal: AbortSignal,
): Promise<void> {
  const fail = (why: string, cause?: unknown) =>
    new RunnerError('START_FAILED', `cannot pull image '${image}' (pullPolicy ${policy}): ${why}`, { cause });
  let stream: NodeJS.ReadableStream;
  try {
    // A kill during a long pull cancels the download.
    stream = (await docker.pull(image, { ...(auth ? { authconfig: auth } : {}), abortSignal: signal })) as NodeJS.ReadableStream;
  } catch (error) {
    throw fail(engineMessage(error), error);
  }
  let lastError: string | undefined;
  let buffered = '';
  const take = (text: string) => {
    buffered += text;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line) continue;
      try {
        const event = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
        if (event.error || event.errorDetail?.message) lastError = event.errorDetail?.message ?? event.error;
      } catch {
        // Progress lines are JSON; anything else carries no error.
      }
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) take(chunk.toString('utf8'));
    take('\n');
  } catch (error) {
    throw fail((error as Error).message, error);
  }
  if (lastError) throw fail(lastError);
}

/** The engine's own message from a dockerode error (its JSON body), else the error's message. */
export function engineMessage(error: unknown): string {
  const e = error as { json?: { message?: string }; reason?: string; message?: string };
  return e?.json?.message ?? e?.message ?? String(error);
}

function loginOf(entry: Record<string, unknown>, registry: string): AuthConfig | undefined {
  const serveraddress = registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
  const token = (entry.identityToken ?? entry.identitytoken) as string | undefined;
  if (token) return { identitytoken: token, serveraddress } as unknown as AuthConfig;
  const registryToken = (entry.registryToken ?? entry.registrytoken) as string | undefined;
  if (registryToken) return { registrytoken: registryToken, serveraddress } as unknown as AuthConfig;
  let username = entry.username as string | undefined;
  let password = entry.password as string | undefined;
  if ((!username || !password) && typeof entry.auth === 'string' && entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  return username && password ? { username, password, serveraddress } : undefined;
}

/** `https://index.docker.io/v1/`, `docker.io` and `registry-1.docker.io` name the same registry. */
function sameRegistry(key: string, registry: string): boolean {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  const wanted = registry.toLowerCase();
  if (DOCKER_HUB_ALIASES.has(host) && DOCKER_HUB_ALIASES.has(wanted)) return true;
  return host === wanted;
}
