import type { Redis } from 'ioredis';
import { TenantEventPublisher, TenantEventSubscriber } from '@triad/server-core';
import type { ClusterHealthState, FindingDraft } from './finding';

/** An open finding as events carry it (dates as ISO strings). */
export interface FindingEventView extends Omit<FindingDraft, 'detail'> {
  id: string;
  detail: Record<string, unknown>;
  firstSeenAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
}

/** A change of a cluster's health or of its open findings, as `clusterHealthChanged` subscribers receive it. */
export interface ClusterHealthEvent {
  clusterId: string;
  health: ClusterHealthState;
  healthChangedAt: string | null;
  /** Every open finding after the change. */
  findings: FindingEventView[];
  opened: string[];
  resolved: string[];
  at: string;
}

const TOPIC = 'health';

export class HealthEventPublisher extends TenantEventPublisher<ClusterHealthEvent> {
  constructor(redis: Redis, redisPrefix: string) {
    super(redis, redisPrefix, TOPIC);
  }
}

export class HealthEventSubscriber extends TenantEventSubscriber<ClusterHealthEvent> {
  constructor(subscriber: Redis, redisPrefix: string) {
    super(subscriber, redisPrefix, TOPIC);
  }
}
