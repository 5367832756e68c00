import type { Redis } from 'ioredis';
import type { RolloutStatus, RolloutStepStatus } from '@triad/db';

/** A change of a rollout or one of its steps, as subscribers of `rolloutProgress` receive it. */
export interface RolloutProgressEvent {
  clusterId: string;
  rolloutId: string;
  toRevision: number;
  rolloutStatus: RolloutStatus;
  /** The step that changed; absent when the rollout itself changed (created, started, finished). */
  step?: { id: string; nodeId: string; nodeName: string; order: number; status: RolloutStepStatus; reason: string | null };
  reason: string | null;
  at: string;
}

/**
 * Rollout progress crosses processes (the worker drives, the api serves subscriptions) over Redis
 * pub/sub, one channel per tenant: a subscriber can only ever listen to its own tenant's channel.
 * Best effort, like any pub/sub: the rows in Postgres are the record; a subscriber that missed an
 * event re-reads `rollout(id)`.
 */
export function rolloutChannel(redisPrefix: string, tenantId: string): string {
  return `${redisPrefix}rollout:${tenantId}`;
}

export class RolloutEventPublisher {
  constructor(
    private readonly redis: Redis,
    private readonly redisPrefix: string,
  ) {}

  async publish(tenantId: string, events: readonly RolloutProgressEvent[]): Promise<void> {
    const channel = rolloutChannel(this.redisPrefix, tenantId);
    for (const e of events) await this.redis.publish(channel, JSON.stringify(e));
  }
}

/**
 * The api's side: one Redis subscriber connection shared by every subscription of the process;
 * `subscribe(tenantId, clusterId)` returns an async iterator of that cluster's events that ends
 * (and unsubscribes) when the client goes away.
 */
export class RolloutEventSubscriber {
  private readonly listeners = new Map<string, Set<(e: RolloutProgressEvent) => void>>();

  constructor(
    private readonly subscriber: Redis,
    private readonly redisPrefix: string,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      const set = this.listeners.get(channel);
      if (!set) return;
      const event = JSON.parse(message) as RolloutProgressEvent;
      for (const l of set) l(event);
    });
  }

  async subscribe(tenantId: string, clusterId: string): Promise<AsyncIterableIterator<RolloutProgressEvent>> {
    const channel = rolloutChannel(this.redisPrefix, tenantId);
    const queue: RolloutProgressEvent[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const listener = (e: RolloutProgressEvent) => {
      if (e.clusterId !== clusterId) return;
      queue.push(e);
      wake?.();
    };
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.subscriber.subscribe(channel);
    }
    set.add(listener);
    const close = async () => {
      done = true;
      wake?.();
      const s = this.listeners.get(channel);
      s?.delete(listener);
      if (s && s.size === 0) {
        this.listeners.delete(channel);
        await this.subscriber.unsubscribe(channel);
      }
    };
    const iterator: AsyncIterableIterator<RolloutProgressEvent> = {
      async next() {
        while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        const value = queue.shift();
        return value ? { value, done: false } : { value: undefined, done: true };
      },
      async return() {
        await close();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}
