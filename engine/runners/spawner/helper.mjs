// The process spawner's helper: a small, long-lived Node process that starts task commands for the
// Process runner (see spawner.ts, which forks it and speaks to it over the IPC channel).
//
// Why it exists: on Linux, Node starts a child with fork(), which copies the page tables of the whole
// parent while its event loop waits. A Baton process holds PGlite, the template and plugin code and
// every running execution (150+ MB): each fork cost it 4–10 ms of frozen event loop. Forked from here
// (~40 MB), a command starts in ~1 ms and Baton's own loop never stops.
//
// Plain JavaScript, no imports of Baton's sources: it starts with `node` alone, under the bundle, under
// tsx, or in the Docker image, and loads nothing it does not use.
//
// Messages in (from Baton):  {type:'spawn', id, file, args, cwd, env, uid?, gid?}
//                            {type:'read', id, stream}   the parent has read what it was sent (resumes a paused stream)
//                            {type:'close', id, stream}  the parent stopped reading a stream
// Messages out (to Baton):   {type:'ready'}
//                            {type:'spawned', id, pid} | {type:'error', id, code, message}
//                            {type:'data', id, stream, chunk} | {type:'end', id, stream}
//                            {type:'exit', id, code, signal}
import { spawn } from 'node:child_process';

/** Between SIGTERM and SIGKILL when Baton itself is gone (the worker's own default grace). */
const ORPHAN_KILL_GRACE_MS = 5_000;

/** Output sent and not yet acknowledged by the parent, per stream, before its pipe pauses (the parent's WINDOW_BYTES agrees). */
const WINDOW_BYTES = 1024 * 1024;

/** Running commands by id: their streams (paused between chunks) and process group. */
const commands = new Map();

function send(message) {
  if (process.connected) process.send(message);
}

function start({ id, file, args, cwd, env, uid, gid }) {
  let child;
  try {
    // detached: the command leads a new session and process group, so Baton can signal all of it (-pid).
    // uid/gid: the task user (Node's spawn also drops the supplementary groups then).
    child = spawn(file, args, { cwd, env, uid, gid, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    send({ type: 'error', id, code: error.code ?? 'EINVAL', message: error.message });
    return;
  }
  // Kept until the command has exited and both its streams are drained: the parent still reads them.
  const entry = { child, streams: {}, acked: {}, open: 2, exited: false };
  const settle = () => {
    if (entry.exited && entry.open === 0) commands.delete(id);
  };
  commands.set(id, entry);
  child.once('error', (error) => {
    // A command that never started: no exit follows.
    if (child.pid === undefined) {
      commands.delete(id);
      send({ type: 'error', id, code: error.code ?? 'EINVAL', message: error.message });
    }
  });
  child.once('spawn', () => send({ type: 'spawned', id, pid: child.pid }));
  for (const name of ['stdout', 'stderr']) {
    const stream = child[name];
    entry.streams[name] = stream;
    // Output flows at once; past a window of bytes the parent has not asked past, the pipe pauses, so
    // a slow reader in Baton slows the command instead of filling memory.
    let unacked = 0;
    entry.acked[name] = () => {
      unacked = 0;
      if (stream.isPaused()) stream.resume();
    };
    stream.on('data', (chunk) => {
      send({ type: 'data', id, stream: name, chunk });
      unacked += chunk.length;
      if (unacked > WINDOW_BYTES) stream.pause();
    });
    stream.once('close', () => {
      send({ type: 'end', id, stream: name });
      entry.open--;
      settle();
    });
  }
  child.once('exit', (code, signal) => {
    send({ type: 'exit', id, code, signal });
    entry.exited = true;
    settle();
  });
}

process.on('message', (message) => {
  switch (message.type) {
    case 'spawn':
      start(message);
      break;
    case 'read':
      commands.get(message.id)?.acked[message.stream]?.();
      break;
    case 'close':
      commands.get(message.id)?.streams[message.stream]?.destroy();
      break;
  }
});

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // Gone already.
  }
}

// Baton is gone (killed, crashed): the commands it started must not run on unsupervised, since the
// execution is resumed elsewhere and would run them twice. Stop them, then leave.
process.once('disconnect', () => {
  const pids = [...commands.values()].filter((c) => !c.exited).map((c) => c.child.pid);
  for (const pid of pids) signalGroup(pid, 'SIGTERM');
  if (pids.length === 0) process.exit(0);
  setTimeout(() => {
    for (const pid of pids) signalGroup(pid, 'SIGKILL');
    process.exit(0);
  }, ORPHAN_KILL_GRACE_MS).unref();
  // Exit as soon as they have all exited.
  const poll = setInterval(() => {
    if ([...commands.values()].every((c) => c.exited)) process.exit(0);
  }, 50);
  poll.unref();
});

send({ type: 'ready' });
