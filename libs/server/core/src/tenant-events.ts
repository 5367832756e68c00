import type { Redis } from 'ioredis';

/**
 * Events that cross processes (the worker changes things, the api serves subscriptions) over Redis
 * pub/sub, one channel per topic and tenant: a subscriber can only ever listen to its own tenant's
 * channel. Best effort, like any pub/sub: the rows in Postgres are the record; a subscriber that
 * missed an event re-reads them.
 */
export function tenantChannel(redisPrefix: string, topic: string, tenantId: string): string {
  return `${redisPrefix}${topic}:${tenantId}`;
}

export class TenantEventPublisher<E> {
  constructor(
    private readonly redis: Redis,
    private readonly redisPrefix: string,
    private readonly topic: string,
  ) {}

  async publish(tenantId: string, events: readonly E[]): Promise<void> {
    const channel = tenantChannel(this.redisPrefix, this.topic, tenantId);
    for (const e of events) await this.redis.publish(channel, JSON.stringify(e));
  }
}

/**
 * Re-checks that a subscriber may still listen (its API token not revoked or expired); throws the
 * error the client should see when it may not.
 */
export type SubscriptionAuthorizer = () => Promise<void>;

export interface SubscribeOptions {
  /** Checked every `recheckMs` and before an event is delivered (at most once a second): when it throws, the subscription ends with that error. */
  authorize?: SubscriptionAuthorizer;
  recheckMs?: number;
}

/** How often an idle subscription re-checks its authorizer. */
export const SUBSCRIPTION_RECHECK_MS = 10_000;
/** An authorization this fresh is not checked again before delivering an event. */
const AUTHORIZED_FRESH_MS = 1_000;

/**
 * The api's side: one Redis subscriber connection shared by every subscription of the process
 * to this topic; `subscribe(tenantId, clusterId)` returns an async iterator of that cluster's
 * events that ends (and unsubscribes) when the client goes away.
 */
export class TenantEventSubscriber<E extends { clusterId: string }> {
  private readonly listeners = new Map<string, Set<(e: E) => void>>();

  constructor(
    private readonly subscriber: Redis,
    private readonly redisPrefix: string,
    private readonly topic: string,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      const set = this.listeners.get(channel);
      if (!set) return;
      const event = JSON.parse(message) as E;
      for (const l of set) l(event);
    });
  }

  async subscribe(tenantId: string, clusterId: string, options: SubscribeOptions = {}): Promise<AsyncIterableIterator<E>> {
    const channel = tenantChannel(this.redisPrefix, this.topic, tenantId);
    const queue: E[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    // Set when the authorizer refused: next() throws it once, then the iterator is done.
    let refused: unknown;
    let authorizedAt = Date.now();
    const { authorize } = options;
    const reauthorize = async (): Promise<void> => {
      if (!authorize || done) return;
      try {
        await authorize();
        authorizedAt = Date.now();
      } catch (e) {
        refused ??= e;
        await close();
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const listener = (e: E) => {
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
      if (timer) clearInterval(timer);
      if (done) return;
      done = true;
      wake?.();
      const s = this.listeners.get(channel);
      s?.delete(listener);
      if (s && s.size === 0) {
        this.listeners.delete(channel);
        // A connection closed meanwhile (api shutting down) holds no subscription any more.
        await this.subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
    if (authorize) {
      timer = setInterval(() => void reauthorize(), options.recheckMs ?? SUBSCRIPTION_RECHECK_MS);
      timer.unref();
    }
    const iterator: AsyncIterableIterator<E> = {
      async next() {
        while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        if (queue.length > 0 && !done && Date.now() - authorizedAt > AUTHORIZED_FRESH_MS) await reauthorize();
        if (refused !== undefined) {
          const error = refused;
          refused = undefined;
          queue.length = 0;
          throw error;
        }
        const value = done ? undefined : queue.shift();
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
