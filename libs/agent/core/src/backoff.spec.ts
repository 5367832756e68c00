import { fullJitterBackoffMs, jitteredIntervalMs } from './backoff';

describe('reconnect backoff', () => {
  it('draws between 0 and base * 2^attempt', () => {
    expect(fullJitterBackoffMs(0, 250, 15_000, () => 0.999)).toBe(249);
    expect(fullJitterBackoffMs(3, 250, 15_000, () => 0.999)).toBe(1998);
    expect(fullJitterBackoffMs(3, 250, 15_000, () => 0)).toBe(0);
  });

  it('never waits longer than the 15 s cap, however many attempts failed', () => {
    for (const attempt of [6, 7, 50, 10_000]) {
      expect(fullJitterBackoffMs(attempt, 250, 15_000, () => 0.999999)).toBeLessThan(15_000);
      expect(fullJitterBackoffMs(attempt, 250, 15_000, () => 0.999999)).toBeGreaterThan(14_900);
    }
  });

  it('spreads a fleet: different random draws give different delays', () => {
    const delays = new Set(Array.from({ length: 50 }, () => fullJitterBackoffMs(5)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('heartbeat jitter', () => {
  it('stays within ±10 % of the interval the server set', () => {
    expect(jitteredIntervalMs(5_000, 0.1, () => 0)).toBe(4_500);
    expect(jitteredIntervalMs(5_000, 0.1, () => 1)).toBe(5_500);
    expect(jitteredIntervalMs(5_000, 0.1, () => 0.5)).toBe(5_000);
  });
});
