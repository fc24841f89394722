/**
 * Runs `task(i)` for i in [0, count) with at most `capacity` in flight. On the
 * first failure it stops starting new ones, waits for those in flight (they may
 * be writing into a file descriptor the caller is about to close) and throws.
 */
export async function bounded(count: number, capacity: number, task: (i: number) => Promise<void>): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let failure: { e: unknown } | null = null;
  for (let i = 0; i < count && !failure; i++) {
    if (inFlight.size >= capacity) await Promise.race(inFlight);
    if (failure) break;
    const p: Promise<void> = task(i)
      .catch((e) => {
        failure ??= { e };
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  if (failure) throw (failure as { e: unknown }).e;
}
