import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NodePresenceStore } from '@triad/fleet';
import { createLogger, type Logger } from '@triad/logging';
import { SERVER_CONFIG, type ServerConfig } from '@triad/server-core';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import type { HealthConfig } from './config';
import { HealthEventPublisher, HealthEventSubscriber } from './health-events';
import { HealthMonitor } from './health.monitor';
import { HEALTH_RESOLVERS } from './health.resolver';
import { HealthService } from './health.service';

/** The health side's own Redis connection (heartbeats read, monitor lock, changes published). */
export const HEALTH_REDIS = Symbol.for('triad.HealthRedis');
const HEALTH_SUBSCRIBER_REDIS = Symbol.for('triad.HealthSubscriberRedis');
const HEALTH_LOGGER = Symbol.for('triad.HealthLogger');

const redisProvider = { provide: HEALTH_REDIS, inject: [SERVER_CONFIG], useFactory: (c: ServerConfig) => new Redis(c.REDIS_URL, { maxRetriesPerRequest: 3 }) };
const loggerProvider = { provide: HEALTH_LOGGER, inject: [SERVER_CONFIG], useFactory: (c: ServerConfig) => createLogger('health', { level: c.LOG_LEVEL }) };

/** Worker side: the HealthMonitor, started on boot in every replica (a Redis lock lets one evaluate at a time). */
@Module({})
export class HealthWorkerModule implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(HealthMonitor) private readonly monitor: HealthMonitor,
    @Inject(HEALTH_REDIS) private readonly redis: Redis,
  ) {}

  static forRoot(config: HealthConfig): DynamicModule {
    return {
      module: HealthWorkerModule,
      providers: [
        redisProvider,
        loggerProvider,
        {
          provide: HealthMonitor,
          inject: [HEALTH_REDIS, DataSource, SERVER_CONFIG, HEALTH_LOGGER],
          useFactory: (redis: Redis, ds: DataSource, c: ServerConfig, logger: Logger) =>
            new HealthMonitor(
              redis,
              ds,
              new NodePresenceStore(redis, c.REDIS_PREFIX),
              new HealthEventPublisher(redis, c.REDIS_PREFIX),
              { redisPrefix: c.REDIS_PREFIX, intervalMs: config.HEALTH_INTERVAL_MS, pacemakerGraceMs: config.HEALTH_PACEMAKER_GRACE_MS, refreshMs: config.HEALTH_REFRESH_MS },
              logger.child({ component: 'health-monitor' }),
            ),
        },
      ],
      exports: [HealthMonitor],
    };
  }

  onApplicationBootstrap(): void {
    this.monitor.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.monitor.stop();
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

/** api side: Cluster.findings and the `clusterHealthChanged` subscription. */
@Module({})
export class HealthApiModule implements OnApplicationShutdown {
  constructor(@Inject(HealthEventSubscriber) private readonly subscriber: HealthEventSubscriber) {}

  static forRoot(): DynamicModule {
    return {
      module: HealthApiModule,
      providers: [
        // A connection in subscriber mode can do nothing else: its own.
        { provide: HEALTH_SUBSCRIBER_REDIS, inject: [SERVER_CONFIG], useFactory: (c: ServerConfig) => new Redis(c.REDIS_URL) },
        { provide: HealthEventSubscriber, inject: [HEALTH_SUBSCRIBER_REDIS, SERVER_CONFIG], useFactory: (redis: Redis, c: ServerConfig) => new HealthEventSubscriber(redis, c.REDIS_PREFIX) },
        { provide: HealthService, inject: [DataSource], useFactory: (ds: DataSource) => new HealthService(ds) },
        ...HEALTH_RESOLVERS,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber.close();
  }
}
