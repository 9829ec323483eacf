/** Lanes started in one turn of the event loop; more wait for the next (see concurrently). */
const LANES_PER_TURN = 256;

/**
 * Runs `work` for each item with at most `limit` at once (0 = all at once). Once `stop()` says so
 * (a failure, a kill), nothing new starts; what runs finishes. Lanes start a few hundred per turn of
 * the event loop: ten thousand started at once would hold it for as long as their first steps take.
 */
export async function concurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
  stop: () => boolean,
): Promise<void> {
  const width = limit <= 0 ? items.length : Math.min(limit, items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stop()) {
      const index = next++;
      await work(items[index], index);
    }
  };
  const lanes: Promise<void>[] = [];
  for (let i = 0; i < width; i++) {
    if (i > 0 && i % LANES_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    lanes.push(lane());
  }
  await Promise.all(lanes);
}
