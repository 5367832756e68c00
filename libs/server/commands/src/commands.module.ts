import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { createLogger, type Logger } from '@triad/logging';
import { SERVER_CONFIG, type ServerConfig } from '@triad/server-core';
import { DataSource } from 'typeorm';
import { CommandSigner } from './command-signer';
import { CommandsService } from './commands.service';
import { NatsLink } from './nats-link';
import { NodeActionService } from './node-action.service';
import { Reconciler, type ReconcilerOptions } from './reconciler';

/** The commands library's pino logger (level from LOG_LEVEL); bind a `component` with `.child()`. */
export const COMMANDS_LOGGER = Symbol.for('triad.CommandsLogger');

/**
 * Provides `CommandSigner`, `NatsLink` (connecting in the background, reconnecting forever),
 * `Reconciler`, `CommandsService` and `NodeActionService` by class. Needs ServerConfigModule and DatabaseModule.
 * Closes the NATS connection on application shutdown.
 */
@Module({})
export class CommandsModule implements OnApplicationShutdown {
  constructor(@Inject(NatsLink) private readonly nats: NatsLink) {}

  /** `selectFor`: the reconciler's per-cluster node selection (the rollout's, in api and worker). */
  static forRoot(opts: { natsConnectionName: string; selectFor?: ReconcilerOptions['selectFor'] }): DynamicModule {
    return {
      module: CommandsModule,
      providers: [
        { provide: COMMANDS_LOGGER, inject: [SERVER_CONFIG], useFactory: (c: ServerConfig) => createLogger('commands', { level: c.LOG_LEVEL }) },
        { provide: CommandSigner, inject: [SERVER_CONFIG], useFactory: (c: ServerConfig) => CommandSigner.fromFile(c.COMMAND_SIGNING_KEY_FILE) },
        {
          provide: NatsLink,
          inject: [SERVER_CONFIG, COMMANDS_LOGGER],
          useFactory: (c: ServerConfig, logger: Logger) => {
            const link = new NatsLink({ servers: c.NATS_URL.split(','), credsFile: c.NATS_CREDS_FILE, name: opts.natsConnectionName }, logger.child({ component: 'nats' }));
            link.start().catch(() => undefined); // only rejects when closed before connecting
            return link;
          },
        },
        {
          provide: Reconciler,
          inject: [DataSource, CommandSigner, SERVER_CONFIG, COMMANDS_LOGGER],
          useFactory: (ds: DataSource, signer: CommandSigner, c: ServerConfig, logger: Logger) => new Reconciler(ds, signer, { commandTtlMs: c.COMMAND_TTL_MS, selectFor: opts.selectFor }, logger.child({ component: 'reconciler' })),
        },
        {
          provide: CommandsService,
          inject: [DataSource, Reconciler, COMMANDS_LOGGER],
          useFactory: (ds: DataSource, reconciler: Reconciler, logger: Logger) => new CommandsService(ds, reconciler, logger.child({ component: 'command-status' })),
        },
        {
          provide: NodeActionService,
          inject: [DataSource, Reconciler, COMMANDS_LOGGER],
          useFactory: (ds: DataSource, reconciler: Reconciler, logger: Logger) => new NodeActionService(ds, reconciler, logger.child({ component: 'node-actions' })),
        },
      ],
      exports: [CommandSigner, NatsLink, Reconciler, CommandsService, NodeActionService, COMMANDS_LOGGER],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.nats.close();
  }
}
