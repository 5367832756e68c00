/**
 * Reconnect delays: "full jitter" exponential backoff (a uniform draw between 0 and
 * min(cap, base * 2^attempt)), so a fleet that lost the control plane at once does not come back
 * in lockstep. `random` is injectable for tests.
 */
export function fullJitterBackoffMs(attempt: number, baseMs = 250, capMs = 15_000, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** A periodic interval with ±`fraction` jitter (heartbeats of many agents spread out). */
export function jitteredIntervalMs(intervalMs: number, fraction = 0.1, random: () => number = Math.random): number {
  return Math.round(intervalMs * (1 - fraction + 2 * fraction * random()));
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
