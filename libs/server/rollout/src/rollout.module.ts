import { BullModule } from '@nestjs/bullmq';
import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type ModuleMetadata, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Reconciler } from '@triad/commands';
import { NodePresenceStore } from '@triad/fleet';
import { createLogger, type Logger } from '@triad/logging';
import { SERVER_CONFIG, type ServerConfig } from '@triad/server-core';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { rolloutTimings, type RolloutConfig } from './config';
import { RolloutEventPublisher, RolloutEventSubscriber } from './rollout-events';
import type { ComponentReport } from './rollout-plan';
import { ROLLOUT_CONFIG, ROLLOUT_LOGGER, ROLLOUT_QUEUE, RolloutProcessor } from './rollout.processor';
import { ROLLOUT_RESOLVERS } from './rollout.resolver';
import { RolloutService, type HeartbeatSource } from './rollout.service';

/** The rollout's own Redis connection (heartbeats read, progress published). */
export const ROLLOUT_REDIS = Symbol.for('triad.RolloutRedis');
const ROLLOUT_SUBSCRIBER_REDIS = Symbol.for('triad.RolloutSubscriberRedis');

export interface RolloutModuleOptions {
  /** A module providing `Reconciler` (the CommandsModule instance of the app). */
  imports: NonNullable<ModuleMetadata['imports']>;
  config: RolloutConfig;
}

/** Latest heartbeats from fleet's presence store, with the component list parsed. */
export function presenceHeartbeats(presence: NodePresenceStore): HeartbeatSource {
  return async (nodeId) => {
    const hb = await presence.latestHeartbeat(nodeId);
    if (!hb) return undefined;
    return { at: hb.at, appliedRevision: hb.appliedRevision, components: JSON.parse(hb.health || '[]') as ComponentReport[] };
  };
}

function commonProviders(config: RolloutConfig) {
  return [
    { provide: ROLLOUT_CONFIG, useValue: config },
    { provide: ROLLOUT_LOGGER, inject: [SERVER_CONFIG], useFactory: (c: ServerConfig) => createLogger('rollout', { level: c.LOG_LEVEL }) },
    { provide: ROLLOUT_REDIS, inject: [SERVER_CONFIG], useFactory: (c: ServerConfig) => new Redis(c.REDIS_URL, { maxRetriesPerRequest: 3 }) },
    { provide: RolloutEventPublisher, inject: [ROLLOUT_REDIS, SERVER_CONFIG], useFactory: (redis: Redis, c: ServerConfig) => new RolloutEventPublisher(redis, c.REDIS_PREFIX) },
    {
      provide: RolloutService,
      inject: [DataSource, Reconciler, ROLLOUT_REDIS, RolloutEventPublisher, SERVER_CONFIG, ROLLOUT_LOGGER],
      useFactory: (ds: DataSource, reconciler: Reconciler, redis: Redis, events: RolloutEventPublisher, c: ServerConfig, logger: Logger) =>
        new RolloutService(ds, reconciler, presenceHeartbeats(new NodePresenceStore(redis, c.REDIS_PREFIX)), events, rolloutTimings(config), logger.child({ component: 'rollout' })),
    },
  ];
}

/**
 * Worker side: the drive jobs (queue `triad-rollouts`, needs the app's `BullModule.forRoot`) and
 * the sweep. Use `RolloutProcessor.revisionCreatedHandler` for the outbox kind `cluster.revision.created`.
 */
@Module({})
export class RolloutWorkerModule implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(RolloutProcessor) private readonly processor: RolloutProcessor,
    @Inject(ROLLOUT_REDIS) private readonly redis: Redis,
  ) {}

  static forRoot(options: RolloutModuleOptions): DynamicModule {
    return {
      module: RolloutWorkerModule,
      imports: [...options.imports, BullModule.registerQueue({ name: ROLLOUT_QUEUE })],
      providers: [...commonProviders(options.config), RolloutProcessor],
      exports: [RolloutService, RolloutProcessor],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.processor.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.processor.stop();
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

/** api side: the GraphQL queries, mutations and the `rolloutProgress` subscription. */
@Module({})
export class RolloutApiModule implements OnApplicationShutdown {
  constructor(
    @Inject(ROLLOUT_REDIS) private readonly redis: Redis,
    @Inject(RolloutEventSubscriber) private readonly subscriber: RolloutEventSubscriber,
  ) {}

  static forRoot(options: RolloutModuleOptions): DynamicModule {
    return {
      module: RolloutApiModule,
      imports: options.imports,
      providers: [
        ...commonProviders(options.config),
        // A connection in subscriber mode can do nothing else: its own.
        { provide: ROLLOUT_SUBSCRIBER_REDIS, inject: [SERVER_CONFIG], useFactory: (c: ServerConfig) => new Redis(c.REDIS_URL) },
        { provide: RolloutEventSubscriber, inject: [ROLLOUT_SUBSCRIBER_REDIS, SERVER_CONFIG], useFactory: (redis: Redis, c: ServerConfig) => new RolloutEventSubscriber(redis, c.REDIS_PREFIX) },
        ...ROLLOUT_RESOLVERS,
      ],
      exports: [RolloutService],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber.close();
    this.redis.disconnect();
  }
}
