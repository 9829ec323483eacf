/**
 * How the Process runner starts a command: directly (child_process.spawn from this process), or through
 * the helper process (helper.mjs), which forks far faster than a large Baton process and never freezes
 * its event loop (see helper.mjs for the figures). Both give the same SpawnedCommand, so the runner
 * supervises a command the same way wherever it was forked; the runner contract suite runs on both.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import type { OutputStream } from '../types.ts';

export interface SpawnRequest {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** The user and group the command runs as (the task user); absent: this process's own. */
  uid?: number;
  gid?: number;
}

export interface CommandExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A started command: it leads its own process group (signal `-pid` to reach all of it). */
export interface SpawnedCommand {
  pid: number;
  stdout: Readable;
  stderr: Readable;
  /**
   * Settles when the command has exited (its streams may still hold output); rejects with
   * SpawnerLostError when its supervision was lost (its group is killed then).
   */
  exit: Promise<CommandExit>;
}

/** Why a command could not be started (`code` as Node's: ENOENT, EACCES…). */
export class SpawnError extends Error {
  override readonly name = 'SpawnError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The supervision of a command was lost: the helper that started it died. The command is stopped. */
export class SpawnerLostError extends Error {
  override readonly name = 'SpawnerLostError';
}

export interface CommandSpawner {
  /** Starts the command; rejects with SpawnError when it cannot start. */
  spawn(request: SpawnRequest): Promise<SpawnedCommand>;
}

/** child_process.spawn in this process. */
export class DirectSpawner implements CommandSpawner {
  spawn(request: SpawnRequest): Promise<SpawnedCommand> {
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(request.file, request.args, {
          cwd: request.cwd,
          env: request.env,
          uid: request.uid,
          gid: request.gid,
          // A new session makes the child a process-group leader: -pid then reaches all its descendants.
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        reject(new SpawnError((error as NodeJS.ErrnoException).code ?? 'EINVAL', (error as Error).message));
        return;
      }
      // Listen before anything else so a command that ends at once is not missed.
      const exit = new Promise<CommandExit>((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
      child.once('spawn', () => resolve({ pid: child.pid!, stdout: child.stdout!, stderr: child.stderr!, exit }));
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (child.pid === undefined) reject(new SpawnError(error.code ?? 'EINVAL', error.message));
      });
    });
  }
}

const HELPER_PATH = fileURLToPath(new URL('./helper.mjs', import.meta.url));

/** An idle helper is stopped after this long, so an idle Baton holds no second process. */
const DEFAULT_HELPER_IDLE_MS = 60_000;

type HelperMessage =
  | { type: 'ready' }
  | { type: 'spawned'; id: number; pid: number }
  | { type: 'error'; id: number; code: string; message: string }
  | { type: 'data'; id: number; stream: OutputStream; chunk: Uint8Array }
  | { type: 'end'; id: number; stream: OutputStream }
  | { type: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null };

interface Pending {
  resolve(command: SpawnedCommand): void;
  reject(error: Error): void;
  pid?: number;
  streams: Record<OutputStream, Readable>;
  exit: Promise<CommandExit>;
  resolveExit(exit: CommandExit): void;
  rejectExit(error: Error): void;
  exited: boolean;
  /** Streams not ended yet: the entry stays until the command exited and both ended. */
  openStreams: number;
  ended: Record<OutputStream, boolean>;
  /** Bytes received per stream since the last acknowledgement. */
  received: Record<OutputStream, number>;
}

/** The helper's window (helper.mjs WINDOW_BYTES): unacknowledged output before it pauses a pipe. */
const WINDOW_BYTES = 1024 * 1024;

/** One helper process and the commands it runs for this process. */
class Helper {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Why it is gone, once it is. */
  gone: string | undefined;

  constructor(
    nodePath: string,
    private readonly idleMs: number,
    private readonly onGone: (helper: Helper) => void,
  ) {
    this.child = fork(HELPER_PATH, [], {
      execPath: nodePath,
      // Plain node: none of this process's loaders (tsx) nor its flags; an environment without Baton's
      // settings or secrets (each command gets its own environment explicitly).
      execArgv: ['--max-semi-space-size=1'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.once('error', (error) => reject(error));
      this.child.once('exit', (code, signal) => reject(new Error(`it exited (${signal ?? `code ${code}`}) before it was ready`)));
      this.child.on('message', (message: HelperMessage) => {
        if (message.type === 'ready') resolve();
        else this.receive(message);
      });
    });
    // Kept referenced while it starts (a caller may be waiting for it), then only while commands run.
    this.ready.then(
      () => this.pending.size === 0 && this.idle(),
      () => undefined,
    );
    this.child.once('exit', (code, signal) => this.lost(`the process spawner (pid ${this.child.pid}) exited (${signal ?? `code ${code}`})`));
    // `on`, not `once`: a send racing the helper's death errors too, and an unheard 'error' would throw.
    this.child.on('error', (error) => this.lost(`the process spawner failed: ${error.message}`));
  }

  spawn(request: SpawnRequest): Promise<SpawnedCommand> {
    if (this.gone || !this.child.connected) return Promise.reject(new SpawnerLostError(this.gone ?? 'the process spawner is disconnected'));
    const id = this.nextId++;
    this.busy();
    let settleExit!: Pick<Pending, 'resolveExit' | 'rejectExit'>;
    const exit = new Promise<CommandExit>((resolveExit, rejectExit) => (settleExit = { resolveExit, rejectExit }));
    // Handled by whoever gets the command; one that never started has no exit to wait for.
    exit.catch(() => undefined);
    return new Promise((resolve, reject) => {
      const ended = { stdout: false, stderr: false };
      const received = { stdout: 0, stderr: 0 };
      const streams = { stdout: this.outputStream(id, { ended, received }, 'stdout'), stderr: this.outputStream(id, { ended, received }, 'stderr') };
      this.pending.set(id, { resolve, reject, streams, exit, ...settleExit, exited: false, openStreams: 2, ended, received });
      this.child.send({ type: 'spawn', id, ...request });
    });
  }

  /**
   * One output stream of a command, fed by the helper's messages. It asks for more (acknowledges) only
   * once it has received half the helper's window: the helper pauses the pipe past the window, so a
   * slow reader here slows the command down, and a fast one costs one message per half window.
   */
  private outputStream(id: number, entry: Pick<Pending, 'ended' | 'received'>, name: OutputStream): Readable {
    return new Readable({
      read: () => {
        if (entry.received[name] >= WINDOW_BYTES / 2) {
          entry.received[name] = 0;
          this.send({ type: 'read', id, stream: name });
        }
      },
      destroy: (error, callback) => {
        if (!entry.ended[name]) {
          // The reader gave up on it (a kill's grace ran out): the helper drops it too.
          entry.ended[name] = true;
          this.send({ type: 'close', id, stream: name });
          this.streamEnded(id);
        }
        callback(error);
      },
    });
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    if (this.child.connected) this.child.disconnect();
  }

  private receive(message: Exclude<HelperMessage, { type: 'ready' }>): void {
    const entry = this.pending.get(message.id);
    if (!entry) return;
    switch (message.type) {
      case 'spawned':
        entry.pid = message.pid;
        entry.resolve({ pid: message.pid, stdout: entry.streams.stdout, stderr: entry.streams.stderr, exit: entry.exit });
        break;
      case 'error':
        this.finish(message.id);
        entry.reject(new SpawnError(message.code, message.message));
        break;
      case 'data':
        entry.received[message.stream] += message.chunk.byteLength;
        entry.streams[message.stream].push(Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength));
        break;
      case 'end': {
        if (!entry.ended[message.stream]) {
          entry.ended[message.stream] = true;
          entry.streams[message.stream].push(null);
          this.streamEnded(message.id);
        }
        break;
      }
      case 'exit':
        entry.exited = true;
        entry.resolveExit({ code: message.code, signal: message.signal });
        if (entry.openStreams === 0) this.finish(message.id);
        break;
    }
  }

  private send(message: Record<string, unknown>): void {
    if (this.child.connected) this.child.send(message);
  }

  private streamEnded(id: number): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    entry.openStreams--;
    if (entry.openStreams === 0 && entry.exited) this.finish(id);
  }

  private finish(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.idle();
  }

  /** Commands are running: the channel keeps this process alive until they end. */
  private busy(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.child.channel?.ref();
    this.child.ref();
  }

  /** Nothing runs: the helper must not keep this process alive, and goes after a while. */
  private idle(): void {
    if (this.gone) return;
    this.child.channel?.unref();
    this.child.unref();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), this.idleMs);
    this.idleTimer.unref();
  }

  /** The helper is gone: every command it ran is stopped, and whoever waits on one is told why. */
  private lost(reason: string): void {
    if (this.gone) return;
    this.gone = reason;
    clearTimeout(this.idleTimer);
    this.onGone(this);
    const error = new SpawnerLostError(reason);
    for (const entry of this.pending.values()) {
      if (entry.pid === undefined) {
        entry.reject(error);
        continue;
      }
      // Its pipes died with the helper: nothing of it can be supervised any more.
      try {
        process.kill(-entry.pid, 'SIGKILL');
      } catch {
        // Ended already.
      }
      for (const stream of Object.values(entry.streams)) stream.destroy(error);
      // Even one that had exited: what it wrote last may be lost.
      entry.rejectExit(error);
    }
    this.pending.clear();
  }
}

export interface HelperSpawnerOptions {
  /** Stop the helper after this long without commands (default 60 s). */
  idleMs?: number;
  /**
   * When the helper cannot start: spawn commands directly (default true; they then lose only the
   * helper's speed and its stopping them if Baton dies) or fail them (false).
   */
  fallBack?: boolean;
  /** The node binary that runs the helper (default: this process's). */
  nodePath?: string;
}

/** After the helper failed to start, commands spawn directly for this long before it is tried again. */
const RETRY_HELPER_AFTER_MS = 60_000;

/**
 * Starts commands through a helper process, started on first use (the first command waits for it,
 * ~50 ms) and stopped when idle. Every command goes through it, so every command is stopped if Baton
 * dies. A helper that dies fails the commands it ran (SpawnerLostError, their process groups
 * killed); the next command starts a new one.
 */
export class HelperSpawner implements CommandSpawner {
  private helper: Helper | undefined;
  private readonly direct = new DirectSpawner();
  private readonly idleMs: number;
  private readonly fallBack: boolean;
  private readonly nodePath: string;
  /** Set when the helper could not start: why, and until when commands spawn directly. */
  private unavailable: { reason: string; until: number } | undefined;

  constructor(options: HelperSpawnerOptions = {}) {
    this.idleMs = options.idleMs ?? DEFAULT_HELPER_IDLE_MS;
    this.fallBack = options.fallBack ?? true;
    this.nodePath = options.nodePath ?? process.execPath;
  }

  /** The helper's pid while one runs (tests). */
  get helperPid(): number | undefined {
    return this.helper && !this.helper.gone ? this.helper.child.pid : undefined;
  }

  /** Why commands are spawned directly, while the helper cannot start. */
  get unavailableReason(): string | undefined {
    return this.unavailable && Date.now() < this.unavailable.until ? this.unavailable.reason : undefined;
  }

  async spawn(request: SpawnRequest): Promise<SpawnedCommand> {
    if (this.fallBack && this.unavailableReason) return this.direct.spawn(request);
    const helper = this.current();
    try {
      await helper.ready;
    } catch (error) {
      const reason = `the process spawner could not start: ${(error as Error).message}`;
      this.unavailable = { reason, until: Date.now() + RETRY_HELPER_AFTER_MS };
      if (this.fallBack) return this.direct.spawn(request);
      throw new SpawnerLostError(reason);
    }
    return helper.spawn(request);
  }

  /** Stops the helper (commands running through it are stopped with it). */
  close(): void {
    this.helper?.stop();
    this.helper = undefined;
  }

  private current(): Helper {
    // A helper stopped for idleness is disconnected before it is gone: the next command gets a new one.
    if (!this.helper || this.helper.gone || !this.helper.child.connected) {
      this.helper = new Helper(this.nodePath, this.idleMs, (gone) => {
        if (this.helper === gone) this.helper = undefined;
      });
    }
    return this.helper;
  }
}
