import { BullModule } from '@nestjs/bullmq';
import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type ModuleMetadata, type OnApplicationBootstrap } from '@nestjs/common';
import { NodeActionService, Reconciler } from '@triad/commands';
import { createLogger, type Logger } from '@triad/logging';
import { SERVER_CONFIG, type ServerConfig } from '@triad/server-core';
import { DataSource } from 'typeorm';
import type { RemediationConfig } from './config';
import { databaseFindings } from './finding-source';
import { REMEDIATION_CONFIG, REMEDIATION_LOGGER, REMEDIATION_QUEUE, RemediationProcessor } from './remediation.processor';
import { REMEDIATION_RESOLVERS } from './remediation.resolver';
import { RemediationService } from './remediation.service';
import type { NodeActions } from './upstream';

export interface RemediationModuleOptions {
  /** A module providing `Reconciler` and `NodeActionService` (the CommandsModule instance of the app). */
  imports: NonNullable<ModuleMetadata['imports']>;
  config: RemediationConfig;
}

function commonProviders(options: RemediationModuleOptions) {
  return [
    { provide: REMEDIATION_CONFIG, useValue: options.config },
    { provide: REMEDIATION_LOGGER, inject: [SERVER_CONFIG], useFactory: (c: ServerConfig) => createLogger('remediation', { level: c.LOG_LEVEL }) },
    {
      provide: RemediationService,
      inject: [DataSource, NodeActionService, Reconciler, REMEDIATION_LOGGER],
      useFactory: (ds: DataSource, actions: NodeActions, reconciler: Reconciler, logger: Logger) => new RemediationService(ds, databaseFindings(), actions, reconciler, options.config, logger),
    },
  ];
}

/** Worker side: the sweep and the drive jobs (queue `remediation`, needs the app's `BullModule.forRoot`). */
@Module({})
export class RemediationWorkerModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(RemediationProcessor) private readonly processor: RemediationProcessor) {}

  static forRoot(options: RemediationModuleOptions): DynamicModule {
    return {
      module: RemediationWorkerModule,
      imports: [...options.imports, BullModule.registerQueue({ name: REMEDIATION_QUEUE })],
      providers: [...commonProviders(options), RemediationProcessor],
      exports: [RemediationService],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.processor.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.processor.stop();
  }
}

/** api side: the GraphQL queries and mutations (runs are driven by the worker). */
@Module({})
export class RemediationApiModule {
  static forRoot(options: RemediationModuleOptions): DynamicModule {
    return {
      module: RemediationApiModule,
      imports: options.imports,
      providers: [...commonProviders(options), ...REMEDIATION_RESOLVERS],
      exports: [RemediationService],
    };
  }
}
