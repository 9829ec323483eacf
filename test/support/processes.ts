/**
 * Real Baton processes for fault tests: `baton <role>` spawned with its own environment, killed with
 * the signal the test chooses (SIGKILL is a crash), their output kept for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { it } from 'vitest';

/** A test of real processes on a shared 2-core machine: it gets minutes, not the default seconds. */
export const processTest = (name: string, fn: () => Promise<void>) => it(name, fn, 180_000);

const ROOT = join(import.meta.dirname, '..', '..');

export interface BatonProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:port` for roles that serve HTTP. */
  url: string;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `baton <role>`; for server and standalone, resolves once /healthz answers. */
export async function startBaton(role: 'standalone' | 'server' | 'scheduler' | 'worker', env: Record<string, string>, timeoutMs = 60_000): Promise<BatonProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'baton.mjs'), role], {
    cwd: ROOT,
    // Workers and schedulers say they are up at level info.
    env: { ...process.env, BATON_LOG_LEVEL: role === 'worker' || role === 'scheduler' ? 'info' : 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const proc: BatonProcess = {
    child,
    url,
    output: () => output,
    exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  if (role === 'server' || role === 'standalone') {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`baton ${role} exited ${child.exitCode}:\n${output}`);
      const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`baton ${role} did not answer /healthz within ${timeoutMs} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // It listens before its first Git sync ends: the flows are there once a sync has succeeded.
    for (;;) {
      const auth: Record<string, string> = env.BATON_API_TOKEN ? { authorization: `Bearer ${env.BATON_API_TOKEN}` } : {};
      const synced = await fetch(`${url}/api/v1/sync`, { headers: auth }).then(
        async (r) => (r.ok ? Boolean(((await r.json()) as { lastSuccessAt?: string | null }).lastSuccessAt) : false),
        () => false,
      );
      if (synced) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`baton ${role} did not sync within ${timeoutMs} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } else {
    // Workers and schedulers serve no HTTP: they are up once they say so.
    const deadline = Date.now() + timeoutMs;
    while (!/claiming executions|scheduler evaluating/.test(output)) {
      if (child.exitCode !== null) throw new Error(`baton ${role} exited ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`baton ${role} did not start within ${timeoutMs} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return proc;
}
