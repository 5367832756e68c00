import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { AuthModule } from '@triad/auth';
import { ClustersModule } from '@triad/clusters';
import { CommandsModule } from '@triad/commands';
import { DatabaseModule } from '@triad/db';
import { FleetModule } from '@triad/fleet';
import { GraphqlExceptionFilter, ServerConfigModule, type ServerConfig } from '@triad/server-core';
import { HealthController } from './health.controller';
import { MetricsRegistry } from './metrics';

/** Deepest selection a query may have; the API's own shapes need 6 (connection → edges → node → …). */
export const QUERY_DEPTH_LIMIT = 8;

export function graphqlOptions(): MercuriusDriverConfig {
  return {
    driver: MercuriusDriver,
    path: '/graphql',
    autoSchemaFile: true,
    sortSchema: true,
    graphiql: false,
    queryDepth: QUERY_DEPTH_LIMIT,
    // Field resolvers (Cluster.revisions, …) go through the same auth guard and error filter.
    fieldResolverEnhancers: ['guards', 'filters'],
  };
}

/** The api process: GraphQL for people and automation, the agents' gRPC server, health and metrics. */
@Module({})
export class ApiModule {
  static forRoot(config: ServerConfig): DynamicModule {
    const commands = CommandsModule.forRoot({ natsConnectionName: 'triad-api' });
    return {
      module: ApiModule,
      imports: [
        ServerConfigModule.forRoot(config),
        DatabaseModule.forRoot({ applicationName: 'triad-api' }),
        GraphQLModule.forRoot<MercuriusDriverConfig>(graphqlOptions()),
        AuthModule,
        ClustersModule,
        commands,
        FleetModule.forApi({ imports: [commands] }),
      ],
      controllers: [HealthController],
      providers: [MetricsRegistry, { provide: APP_FILTER, useClass: GraphqlExceptionFilter }],
    };
  }
}
