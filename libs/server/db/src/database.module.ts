import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { SERVER_CONFIG, type ServerConfig } from '@triad/server-core';
import { DataSource } from 'typeorm';
import { createDataSource } from './data-source';

/**
 * Provides the initialized `DataSource` (inject it by class). Needs `ServerConfigModule` for
 * DATABASE_URL; closes the pool on application shutdown.
 */
@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  static forRoot(opts: { applicationName?: string } = {}): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DataSource,
          inject: [SERVER_CONFIG],
          useFactory: (config: ServerConfig) => createDataSource(config.DATABASE_URL, { applicationName: opts.applicationName }).initialize(),
        },
      ],
      exports: [DataSource],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
