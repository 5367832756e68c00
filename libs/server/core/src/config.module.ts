import { DynamicModule, Global, Module } from '@nestjs/common';
import { SERVER_CONFIG, type ServerConfig } from './config';

/** Makes the parsed `ServerConfig` injectable everywhere as `@Inject(SERVER_CONFIG)`. */
@Global()
@Module({})
export class ServerConfigModule {
  static forRoot(config: ServerConfig): DynamicModule {
    return { module: ServerConfigModule, providers: [{ provide: SERVER_CONFIG, useValue: config }], exports: [SERVER_CONFIG] };
  }
}
