import { BullModule } from '@nestjs/bullmq';
import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import {
  COMMANDS_LOGGER,
  CommandsModule,
  NatsLink,
  OutboxRelay,
  Reconciler,
  commandPublishHandler,
  commandStreamConfig,
  ensureCommandStream,
  revisionCreatedHandler,
} from '@triad/commands';
import { DatabaseModule, OUTBOX_COMMAND_PUBLISH, OUTBOX_REVISION_CREATED } from '@triad/db';
import { LivenessModule } from '@triad/fleet';
import { RemediationWorkerModule, loadRemediationConfig } from '@triad/remediation';
import { HealthWorkerModule, loadHealthConfig } from '@triad/health';
import { RolloutProcessor, RolloutWorkerModule, loadRolloutConfig, rolloutNodeSelection } from '@triad/rollout';
import type { Logger } from '@triad/logging';
import { SERVER_CONFIG, ServerConfigModule, type ServerConfig } from '@triad/server-core';
import { DataSource } from 'typeorm';
import { COMMAND_JOBS_QUEUE, CommandJobsProcessor } from './command-jobs.processor';

/** How long SIGTERM waits for the outbox batch in progress. */
export const RELAY_STOP_TIMEOUT_MS = 10_000;

/** ioredis options from REDIS_URL (BullMQ opens its own connections from them). */
function redisOptions(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number(u.pathname.slice(1) || 0),
  };
}

/**
 * The worker process: outbox relay (commands to NATS, revisions to the reconciler), BullMQ jobs
 * (reconcile sweep, command expiry, rollouts, remediation) and fleet's liveness sweeper. No HTTP.
 */
@Module({})
export class WorkerModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;

  constructor(
    @Inject(COMMANDS_LOGGER) commandsLogger: Logger,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(NatsLink) private readonly nats: NatsLink,
    @Inject(CommandJobsProcessor) private readonly jobs: CommandJobsProcessor,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
  ) {
    this.logger = commandsLogger.child({ component: 'worker' });
  }

  static forRoot(config: ServerConfig): DynamicModule {
    // The reconciler sends a revision only to nodes its rollout released (@triad/rollout).
    const commands = CommandsModule.forRoot({ natsConnectionName: 'triad-worker', selectFor: rolloutNodeSelection });
    return {
      module: WorkerModule,
      imports: [
        ServerConfigModule.forRoot(config),
        DatabaseModule.forRoot({ applicationName: 'triad-worker' }),
        commands,
        BullModule.forRoot({ connection: redisOptions(config.REDIS_URL), prefix: `${config.REDIS_PREFIX}bull` }),
        BullModule.registerQueue({ name: COMMAND_JOBS_QUEUE }),
        LivenessModule.forWorker(),
        HealthWorkerModule.forRoot(loadHealthConfig()),
        RolloutWorkerModule.forRoot({ imports: [commands], config: loadRolloutConfig() }),
        RemediationWorkerModule.forRoot({ imports: [commands], config: loadRemediationConfig() }),
      ],
      providers: [
        CommandJobsProcessor,
        {
          provide: OutboxRelay,
          inject: [DataSource, Reconciler, NatsLink, SERVER_CONFIG, COMMANDS_LOGGER, RolloutProcessor],
          useFactory: (ds: DataSource, reconciler: Reconciler, nats: NatsLink, c: ServerConfig, commandsLogger: Logger, rollouts: RolloutProcessor) => {
            const logger = commandsLogger.child({ component: 'outbox-relay' });
            return new OutboxRelay(
              ds,
              { [OUTBOX_REVISION_CREATED]: rollouts.revisionCreatedHandler(revisionCreatedHandler(reconciler)), [OUTBOX_COMMAND_PUBLISH]: commandPublishHandler(ds, nats, logger) },
              () => nats.connected,
              { databaseUrl: c.DATABASE_URL },
              logger,
            );
          },
        },
      ],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    // After every (re)connect: make sure the stream exists, then publish what waited.
    this.nats.onConnected(async () => {
      await ensureCommandStream(await this.nats.jetstreamManager(), commandStreamConfig());
      this.relay.wake();
    });
    await this.jobs.schedule({ reconcileSweepMs: this.config.RECONCILE_SWEEP_INTERVAL_MS, commandExpiryMs: this.config.COMMAND_EXPIRY_INTERVAL_MS });
    await this.relay.start();
    this.logger.info('worker started');
  }

  /** Before connections close: finish the outbox batch in progress and the running jobs. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!(await this.relay.stop(RELAY_STOP_TIMEOUT_MS))) {
      this.logger.warn({ timeoutMs: RELAY_STOP_TIMEOUT_MS }, 'outbox batch did not finish in time; its rows stay unpublished and are retried');
    }
    await this.jobs.worker.close();
  }
}
