/**
 * The contract every TaskRunner passes. Each runner's test calls `runRunnerContract` with a factory;
 * the commands use only POSIX sh and coreutils (busybox has them all) so a container runner can run
 * them unchanged.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutputStream, RunnerJob, RunnerResult, TaskRunner } from './types.ts';
import { MAX_LINE_BYTES } from './line-splitter.ts';

export interface ContractOptions {
  /** The runner's SIGTERM→SIGKILL grace period, so the suite knows how long a stubborn command may take. */
  killGraceMs: number;
  /** Job fields the runner needs to run anything at all (a container runner's image and options). */
  job?: Pick<Partial<RunnerJob>, 'containerImage' | 'options'>;
}

interface Captured {
  result: RunnerResult;
  lines: Array<{ stream: OutputStream; line: string }>;
  stdout: string[];
  stderr: string[];
  elapsedMs: number;
}

export function runRunnerContract(
  name: string,
  make: () => TaskRunner | Promise<TaskRunner>,
  options: ContractOptions,
): void {
  describe(`TaskRunner contract: ${name}`, () => {
    let runner: TaskRunner;
    let workingDir: string;
    let outputDir: string;

    beforeEach(async () => {
      runner = await make();
      workingDir = await mkdtemp(join(tmpdir(), 'baton-runner-'));
      outputDir = join(workingDir, 'out');
      await mkdir(outputDir);
    });
    afterEach(async () => {
      await rm(workingDir, { recursive: true, force: true });
    });

    const sh = (script: string) => ['/bin/sh', '-c', script];

    async function run(command: string[], extra: Partial<RunnerJob> = {}): Promise<Captured> {
      const lines: Captured['lines'] = [];
      const started = Date.now();
      const result = await runner.run({
        command,
        workingDir,
        outputDir,
        env: {},
        signal: new AbortController().signal,
        onLine: (stream, line) => {
          lines.push({ stream, line });
        },
        options: {},
        ...options.job,
        ...extra,
      });
      return {
        result,
        lines,
        stdout: lines.filter((l) => l.stream === 'stdout').map((l) => l.line),
        stderr: lines.filter((l) => l.stream === 'stderr').map((l) => l.line),
        elapsedMs: Date.now() - started,
      };
    }

    it('reports exit code 0 and a non-zero exit code', async () => {
      expect((await run(sh('true'))).result).toEqual({ exitCode: 0, killed: false });
      expect((await run(sh('exit 3'))).result).toEqual({ exitCode: 3, killed: false });
    });

    it('passes the job environment and keeps the host environment private', async () => {
      process.env.BATON_CONTRACT_PRIVATE = 'must-not-leak';
      try {
        const { stdout } = await run(sh('echo "foo=$FOO"; echo "private=${BATON_CONTRACT_PRIVATE:-}"; command -v sh >/dev/null && echo path-ok'), {
          env: { FOO: 'bar baz' },
        });
        expect(stdout).toEqual(['foo=bar baz', 'private=', 'path-ok']);
      } finally {
        delete process.env.BATON_CONTRACT_PRIVATE;
      }
    });

    it('starts in the working directory: reads input files and leaves output files there', async () => {
      await writeFile(join(workingDir, 'in.txt'), 'hello\n');
      const { result } = await run(sh('tr a-z A-Z < in.txt > out/result.txt && cp in.txt copy.txt'));
      expect(result.exitCode).toBe(0);
      expect(await readFile(join(outputDir, 'result.txt'), 'utf8')).toBe('HELLO\n');
      expect(await readFile(join(workingDir, 'copy.txt'), 'utf8')).toBe('hello\n');
    });

    it('delivers stdout and stderr lines separately, in order, without terminators', async () => {
      const { stdout, stderr } = await run(sh('echo one; echo two >&2; echo three; printf "four\\n" >&2; printf "tail"'));
      expect(stdout).toEqual(['one', 'three', 'tail']);
      expect(stderr).toEqual(['two', 'four']);
    });

    it('treats \\r\\n, \\r and \\n as line ends and keeps empty lines', async () => {
      const { stdout } = await run(sh('printf "a\\r\\nb\\rc\\n\\nd\\n"'));
      expect(stdout).toEqual(['a', 'b', 'c', '', 'd']);
    });

    it('passes output-protocol lines through untouched', async () => {
      const line = '::{"outputs":{"a":1,"s":"x y"},"metrics":[{"name":"n","type":"counter","value":2}]}::';
      const { stdout } = await run(sh(`printf '%s\\n' '${line}'`));
      expect(stdout).toEqual([line]);
    });

    it('decodes UTF-8 output', async () => {
      const { stdout } = await run(sh('printf "h\\303\\251llo \\342\\202\\254\\n"'));
      expect(stdout).toEqual(['héllo €']);
    });

    it('streams 100k lines in order', async () => {
      const { stdout, result } = await run(sh('i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo "line $i"; done'));
      expect(result.exitCode).toBe(0);
      expect(stdout.length).toBe(100_000);
      expect(stdout[0]).toBe('line 1');
      expect(stdout[54_321]).toBe('line 54322');
      expect(stdout[99_999]).toBe('line 100000');
    });

    it('waits for slow asynchronous line handlers without losing or reordering lines', async () => {
      const seen: string[] = [];
      const result = await runner.run({
        command: sh('i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo $i; done'),
        workingDir,
        outputDir,
        env: {},
        signal: new AbortController().signal,
        onLine: async (_stream, line) => {
          if (Number(line) % 500 === 0) await new Promise((r) => setTimeout(r, 20));
          seen.push(line);
        },
        options: {},
        ...options.job,
      });
      expect(result.exitCode).toBe(0);
      expect(seen.length).toBe(3000);
      expect(seen.every((line, i) => line === String(i + 1))).toBe(true);
    });

    it('splits a line longer than the maximum into pieces without losing bytes', async () => {
      const total = MAX_LINE_BYTES * 2 + 10;
      const { stdout } = await run(sh(`head -c ${total} /dev/zero | tr '\\0' x; echo; echo after`));
      expect(stdout.slice(0, -1).join('').length).toBe(total);
      expect(stdout.slice(0, -1).every((piece) => piece.length <= MAX_LINE_BYTES && /^x+$/.test(piece))).toBe(true);
      expect(stdout.at(-1)).toBe('after');
    });

    it('kills the command and its children promptly when the signal aborts', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const script = '(sleep 1.5; echo alive > late.txt) & sleep 30 & echo started; wait';
      const { result, stdout, elapsedMs } = await run(sh(script), { signal: controller.signal });
      expect(result.killed).toBe(true);
      expect(result.exitCode).not.toBe(0);
      expect(stdout).toEqual(['started']);
      expect(elapsedMs).toBeLessThan(3_000);
      // The background child would have written this file had it survived the kill.
      await new Promise((r) => setTimeout(r, 1_800));
      await expect(access(join(workingDir, 'late.txt'))).rejects.toThrow();
    });

    it('stops a command on timeout (AbortSignal.timeout)', async () => {
      const { result, elapsedMs } = await run(sh('sleep 30'), { signal: AbortSignal.timeout(200) });
      expect(result.killed).toBe(true);
      expect(elapsedMs).toBeLessThan(3_000);
    });

    it('force-kills a command that ignores SIGTERM after the grace period', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const { result, elapsedMs } = await run(sh("trap '' TERM; echo ready; while :; do sleep 0.1; done"), {
        signal: controller.signal,
      });
      expect(result.killed).toBe(true);
      expect(result.exitCode).toBe(128 + 9);
      expect(elapsedMs).toBeGreaterThanOrEqual(300 + options.killGraceMs - 50);
      expect(elapsedMs).toBeLessThan(300 + options.killGraceMs + 3_000);
    });

    it('does not start anything when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      const { result } = await run(sh('touch ran.txt'), { signal: controller.signal });
      expect(result.killed).toBe(true);
      await expect(access(join(workingDir, 'ran.txt'))).rejects.toThrow();
    });

    it('does not leave background jobs running after the command exits', async () => {
      const { result, elapsedMs } = await run(sh('(sleep 1; echo alive > late.txt) & echo done'));
      expect(result).toEqual({ exitCode: 0, killed: false });
      expect(elapsedMs).toBeLessThan(options.killGraceMs + 2_000);
      await new Promise((r) => setTimeout(r, 1_300));
      await expect(access(join(workingDir, 'late.txt'))).rejects.toThrow();
    });
  });
}
