import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/index.ts';
import { createTestPostgresDatabase, postgresService, type TestPostgresDatabase } from '../support/databases.ts';
import { executionsOf, FlowPublisher, ManualClock, scheduledFlow, testScheduler } from './support.ts';

const FLOWS = Array.from({ length: 8 }, (_, i) => `every-second-${i}`);

postgresService.describe('two schedulers on one PostgreSQL database', () => {
  let test: TestPostgresDatabase;
  let first: Database;
  let second: Database;

  beforeAll(async () => {
    test = await createTestPostgresDatabase();
    // Two pools, as two processes would have.
    first = await openDatabase({ url: test.url });
    second = await openDatabase({ url: test.url });
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await test?.drop();
  });

  it('fire each schedule date exactly once while ticking concurrently', async () => {
    await new FlowPublisher(first.db).only(...FLOWS.map((id) => scheduledFlow(id, 'cron: "* * * * * *"\nwithSeconds: true')));
    const clock = new ManualClock('2024-03-01T10:00:00.500Z');
    const a = await testScheduler(first, clock);
    const b = await testScheduler(second, clock);
    const ranBy = { a: 0, b: 0 };
    a.engine.onExecution((e) => e.state.current === 'CREATED' && ranBy.a++);
    b.engine.onExecution((e) => e.state.current === 'CREATED' && ranBy.b++);

    let lastTick = clock.now();
    for (let round = 0; round < 25; round++) {
      lastTick = clock.now();
      await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
      // Sometimes three seconds at once, so that claims carry several dates.
      clock.advance(round % 5 === 4 ? 3_000 : 1_000);
    }
    await Promise.all([a.scheduler.idle(), b.scheduler.idle()]);

    // The first tick (10:00:00.5) only starts the schedules; every whole second after it up to the last tick fires.
    const seconds = Math.floor((lastTick.getTime() - Date.parse('2024-03-01T10:00:00Z')) / 1000);
    expect(seconds).toBe(32);
    const expected = Array.from({ length: seconds }, (_, i) => `2024-03-01T10:00:${String(i + 1).padStart(2, '0')}Z`);
    for (const flowId of FLOWS) {
      const dates = (await executionsOf(first.db, flowId)).map((e) => String(e.trigger?.date)).sort();
      expect(dates, flowId).toEqual(expected);
    }
    expect(ranBy.a + ranBy.b).toBe(FLOWS.length * expected.length);
    // Both took part: the claims really competed.
    expect(ranBy.a).toBeGreaterThan(0);
    expect(ranBy.b).toBeGreaterThan(0);
    expect([...a.logs, ...b.logs]).toEqual([]);
  });
});
