import type { Redis } from 'ioredis';
import type { RolloutStatus, RolloutStepStatus } from '@triad/db';
import { TenantEventPublisher, TenantEventSubscriber, tenantChannel } from '@triad/server-core';

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

const TOPIC = 'rollout';

/**
 * Rollout progress crosses processes (the worker drives, the api serves subscriptions) over Redis
 * pub/sub, one channel per tenant (TenantEventPublisher); a subscriber that missed an event
 * re-reads `rollout(id)`.
 */
export function rolloutChannel(redisPrefix: string, tenantId: string): string {
  return tenantChannel(redisPrefix, TOPIC, tenantId);
}

export class RolloutEventPublisher extends TenantEventPublisher<RolloutProgressEvent> {
  constructor(redis: Redis, redisPrefix: string) {
    super(redis, redisPrefix, TOPIC);
  }
}

export class RolloutEventSubscriber extends TenantEventSubscriber<RolloutProgressEvent> {
  constructor(subscriber: Redis, redisPrefix: string) {
    super(subscriber, redisPrefix, TOPIC);
  }
}
