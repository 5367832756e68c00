import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { AuthModule, PRINCIPAL_KEY, type Principal } from '@triad/auth';
import { ClustersModule } from '@triad/clusters';
import { CommandsModule } from '@triad/commands';
import { DatabaseModule } from '@triad/db';
import { FleetModule } from '@triad/fleet';
import { RemediationApiModule, loadRemediationConfig } from '@triad/remediation';
import { HealthApiModule } from '@triad/health';
import { RolloutApiModule, loadRolloutConfig, rolloutNodeSelection } from '@triad/rollout';
import { ErrorKind, GraphqlExceptionFilter, ServerConfigModule, type ServerConfig } from '@triad/server-core';
import type { Logger } from '@triad/logging';
import { Kind, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';
import mercurius from 'mercurius';
import { HealthController } from './health.controller';
import { MetricsRegistry } from './metrics';

/** Deepest selection a query may have; the API's own shapes need 6 (connection → edges → node → …). */
export const QUERY_DEPTH_LIMIT = 8;

/**
 * Errors that did not pass through GraphqlExceptionFilter still get a code: without a `path` they
 * were raised before execution (syntax, unknown field, depth, variable types: the request is
 * wrong); with one, graphql-js itself failed while executing (e.g. a null in a non-null field).
 */
function withCode(error: GraphQLFormattedError): GraphQLFormattedError {
  if (error.extensions?.code) return error;
  return { ...error, extensions: { ...error.extensions, code: error.path ? ErrorKind.INTERNAL : ErrorKind.BAD_USER_INPUT } };
}

interface OperationContext {
  [PRINCIPAL_KEY]?: Principal;
  operation?: { name: string | null; type: string; startedAt: number };
}

export function graphqlOptions(logger: Logger): MercuriusDriverConfig {
  return {
    driver: MercuriusDriver,
    path: '/graphql',
    autoSchemaFile: true,
    sortSchema: true,
    graphiql: false,
    queryDepth: QUERY_DEPTH_LIMIT,
    // Websocket subscriptions (rolloutProgress) authenticate like HTTP: the AuthGuard reads a bearer
    // token from `authorization` in connection_init's payload, or else from the upgrade request.
    subscription: {
      context: (_socket, request) => ({ reply: { request } }),
      onConnect: ({ payload }) => {
        const authorization = (payload as { authorization?: unknown } | undefined)?.authorization;
        return typeof authorization === 'string' ? { reply: { request: { headers: { authorization } } } } : true;
      },
    },
    // Field resolvers (Cluster.revisions, …) go through the same auth guard and error filter.
    fieldResolverEnhancers: ['guards', 'interceptors', 'filters'],
    hooks: {
      preExecution: (_schema, document, context) => {
        const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
        (context as OperationContext).operation = { name: op?.name?.value ?? null, type: op?.operation ?? 'query', startedAt: performance.now() };
      },
      // One line per operation: who (tenant, token), what, how long, which error codes.
      onResolution: (execution, context) => {
        const { principal, operation } = context as OperationContext;
        const errors = execution.errors?.map((e) => e.extensions?.code ?? ErrorKind.INTERNAL);
        logger.info(
          {
            tenantId: principal?.tenantId,
            tokenId: principal?.tokenId,
            operation: operation?.name,
            operationType: operation?.type,
            durationMs: operation ? Math.round(performance.now() - operation.startedAt) : undefined,
            errors,
          },
          'graphql operation',
        );
      },
    },
    errorFormatter: (execution, context) => {
      const formatted = mercurius.defaultErrorFormatter(execution, context);
      return { ...formatted, response: { ...formatted.response, errors: formatted.response.errors?.map(withCode) } };
    },
  };
}

/** The api process: GraphQL for people and automation, the agents' gRPC server, health and metrics. */
@Module({})
export class ApiModule {
  static forRoot(config: ServerConfig, logger: Logger): DynamicModule {
    // The reconciler (agent Hello) sends a revision only to nodes its rollout released (@triad/rollout).
    const commands = CommandsModule.forRoot({ natsConnectionName: 'triad-api', selectFor: rolloutNodeSelection });
    return {
      module: ApiModule,
      imports: [
        ServerConfigModule.forRoot(config),
        DatabaseModule.forRoot({ applicationName: 'triad-api' }),
        GraphQLModule.forRoot<MercuriusDriverConfig>(graphqlOptions(logger.child({ component: 'graphql' }))),
        AuthModule,
        ClustersModule,
        commands,
        FleetModule.forApi({ imports: [commands] }),
        RolloutApiModule.forRoot({ imports: [commands], config: loadRolloutConfig() }),
        RemediationApiModule.forRoot({ imports: [commands], config: loadRemediationConfig() }),
        HealthApiModule.forRoot(),
      ],
      controllers: [HealthController],
      providers: [MetricsRegistry, { provide: APP_FILTER, useClass: GraphqlExceptionFilter }],
    };
  }
}
