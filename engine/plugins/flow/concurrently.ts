/**
 * Runs `work` for each item with at most `limit` at once (0 = all at once). Once `stop()` says so
 * (a failure, a kill), nothing new starts; what runs finishes.
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
  await Promise.all(Array.from({ length: width }, lane));
}
