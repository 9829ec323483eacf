import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { openDatabase } from '../db/index.ts';
import { createEngine } from '../engine/index.ts';
import type { FlowDef } from '../engine/flow/types.ts';
import { DOCKER_RUNNER_TYPE } from '../engine/runners/index.ts';
import { median, printBench } from './report.ts';

const exec = promisify(execFile);
const IMAGE = 'baton-test/busybox:latest';
const TASKS = 20;
const ROUNDS = 5;

/**
 * docker_task_vs_docker_run: a flow of 20 sequential shell.Commands tasks (`echo hi`) on the Docker
 * runner, through the whole engine, against 20 sequential `docker run --rm --network none` of the
 * same image and command; ms per task, median of alternating rounds after one warm-up of each.
 * Goal: ours ≤ 1.15 × docker run (Kestra's Docker runner takes about 675 ms per task).
 */
export async function run(): Promise<void> {
  const unavailable = await dockerUnavailable();
  if (unavailable) {
    console.log(`BENCH name=docker_task_vs_docker_run skipped: ${unavailable}`);
    return;
  }
  const database = await openDatabase({ url: 'memory://' });
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-bench-docker-'));
  const engine = createEngine({ db: database.db, dataDir, env: {} });
  const flow: FlowDef = {
    id: 'bench_docker',
    namespace: 'baton.bench',
    tasks: Array.from({ length: TASKS }, (_, i) => ({
      id: `t${i}`,
      type: 'io.kestra.plugin.scripts.shell.Commands',
      containerImage: IMAGE,
      taskRunner: { type: DOCKER_RUNNER_TYPE, networkMode: 'none' },
      commands: ['echo hi'],
    })) as FlowDef['tasks'],
  };
  const ourRound = async () => {
    const started = performance.now();
    const execution = await engine.execute({ flow });
    const elapsed = performance.now() - started;
    if (execution.state.current !== 'SUCCESS') throw new Error(`bench flow ended ${execution.state.current}`);
    return elapsed / TASKS;
  };
  const dockerRunRound = async () => {
    const started = performance.now();
    for (let i = 0; i < TASKS; i++) {
      const { stdout } = await exec('docker', ['run', '--rm', '--network', 'none', IMAGE, 'echo', 'hi']);
      if (stdout.trim() !== 'hi') throw new Error(`docker run printed ${JSON.stringify(stdout)}`);
    }
    return (performance.now() - started) / TASKS;
  };
  try {
    await ourRound();
    await dockerRunRound();
    const ours: number[] = [];
    const baseline: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ours.push(await ourRound());
      baseline.push(await dockerRunRound());
    }
    const oursMs = median(ours);
    const baselineMs = median(baseline);
    printBench({
      name: 'docker_task_vs_docker_run',
      ours: oursMs,
      baseline: baselineMs,
      unit: 'ms/task',
      goal: 'ratio<=1.15',
      goalMet: oursMs / baselineMs <= 1.15,
    });
  } finally {
    await engine.idle();
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Why the bench cannot run here, or undefined when it can. */
async function dockerUnavailable(): Promise<string | undefined> {
  const docker = new Dockerode();
  try {
    await docker.ping();
  } catch (error) {
    return `no Docker engine (${(error as Error).message})`;
  }
  try {
    await docker.getImage(IMAGE).inspect();
  } catch {
    return `image ${IMAGE} is missing (run test/images/build.sh)`;
  }
  try {
    await exec('docker', ['version', '--format', '{{.Client.Version}}']);
  } catch {
    return 'no docker command line for the baseline';
  }
  return undefined;
}
