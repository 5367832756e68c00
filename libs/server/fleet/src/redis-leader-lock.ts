import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

// Renews the lock only while we still hold it.    KEYS: lock   ARGV: owner, ttl
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** What one `hold()` found: whether we hold the lock now, and whether that changed. */
export interface LeaderLockState {
  held: boolean;
  /** Taken by this call (we were not the leader before). */
  acquired: boolean;
  /** Held before this call, not any more (another replica took over after our lease ran out). */
  lost: boolean;
}

/**
 * Leader election for worker loops that any number of replicas run (liveness sweeper, health
 * monitor): a Redis key with a TTL, renewed by its owner on every tick; whoever finds it gone takes it.
 */
export class RedisLeaderLock {
  private readonly owner = randomUUID();
  private held = false;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly ttlMs: number,
  ) {}

  get isHeld(): boolean {
    return this.held;
  }

  /** Renews the lock when we hold it, else tries to take it. Call once per tick. */
  async hold(): Promise<LeaderLockState> {
    if (this.held) {
      this.held = (await this.redis.eval(RENEW, 1, this.key, this.owner, this.ttlMs)) === 1;
      return { held: this.held, acquired: false, lost: !this.held };
    }
    this.held = (await this.redis.set(this.key, this.owner, 'PX', this.ttlMs, 'NX')) === 'OK';
    return { held: this.held, acquired: this.held, lost: false };
  }

  /** Gives the lock up (shutdown) so that another replica takes over at once. */
  async release(): Promise<void> {
    if (this.held) await this.redis.eval(RELEASE, 1, this.key, this.owner);
    this.held = false;
  }
}

/**
 * Runs `round` now and then again `everyMs` after each one ends (rounds never overlap), logging a
 * failed round through `onError`; `stop()` waits for the round in progress.
 */
export class RepeatingTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly everyMs: number,
    private readonly round: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    const loop = () => {
      this.running = this.round()
        .catch(this.onError)
        .finally(() => {
          if (this.timer) this.timer = setTimeout(loop, this.everyMs);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    const timer = this.timer;
    this.timer = undefined;
    if (timer) clearTimeout(timer);
    await this.running;
  }
}
