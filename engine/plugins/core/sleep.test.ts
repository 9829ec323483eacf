import { afterEach, describe, expect, it } from 'vitest';
import { createTempDirTaskContext, type TempDirTaskContext } from '../../scripts/temp-dir-task-context.ts';
import { sleep } from './sleep.ts';

const open: Array<TempDirTaskContext<{ duration: string }>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.cleanup()));
});

async function context(duration: string): Promise<TempDirTaskContext<{ duration: string }>> {
  const t = await createTempDirTaskContext({ duration });
  open.push(t);
  return t;
}

/** What the sleep has done by the time `ms` have passed. */
async function stateAfter(run: Promise<unknown>, ms: number): Promise<'slept' | 'failed' | 'sleeping'> {
  const outcome = run.then(
    () => 'slept' as const,
    () => 'failed' as const,
  );
  return Promise.race([outcome, new Promise<'sleeping'>((resolve) => setTimeout(() => resolve('sleeping'), ms))]);
}

describe('core.flow.Sleep', () => {
  it('ends after its duration', async () => {
    const t = await context('PT0.05S');
    await expect(sleep.run(t.ctx)).resolves.toBeUndefined();
  });

  it('stops at once when killed, with the reason of the kill', async () => {
    const t = await context('PT1H');
    const running = sleep.run(t.ctx);
    t.abort(new Error('killed by user'));
    await expect(running).rejects.toThrow('killed by user');
  });

  it('keeps sleeping past the longest delay of a timer (~24.8 days), which Node would fire at once', async () => {
    const t = await context('P30D');
    const running = sleep.run(t.ctx);
    expect(await stateAfter(running, 300)).toBe('sleeping');
    t.abort(new Error('killed by user'));
    await expect(running).rejects.toThrow('killed by user');
  });
});
