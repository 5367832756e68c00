import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type InjectionToken, type ModuleMetadata, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { CommandSigner, CommandsService, commandStreamConfig, ensureCommandStream, NatsLink } from '@triad/commands';
import { AgentNatsCredentials, EnrollmentService } from '@triad/enrollment';
import { createLogger, type Logger } from '@triad/logging';
import { ConfigError, readConfigFile, SERVER_CONFIG, type ServerConfig } from '@triad/server-core';
import { DataSource } from 'typeorm';
import { AgentAuthenticator } from './agent-authenticator';
import { AgentGrpcServer } from './agent-grpc.server';
import { AgentStreamService, type AgentCommandPort } from './agent-stream.service';
import { LivenessSweeper } from './liveness.sweeper';
import { NodePresenceStore } from './node-presence.store';
import { NodeStateWriter } from './node-state.writer';

/** The fleet's own Redis connection (leases, nonces, sweeper lock). */
export const FLEET_REDIS = Symbol.for('triad.FleetRedis');
/** The fleet's logger, at LOG_LEVEL. */
export const FLEET_LOGGER = Symbol.for('triad.FleetLogger');
/** The commands side the agent stream reports to (CommandsService of @triad/commands). */
export const AGENT_COMMANDS = Symbol.for('triad.AgentCommands');

export interface FleetModuleOptions {
  /** Modules that provide the `commands` and `natsLink` tokens. */
  imports?: ModuleMetadata['imports'];
  /** Defaults to the `CommandsService` class. */
  commands?: InjectionToken;
  /** Defaults to the `NatsLink` class. */
  natsLink?: InjectionToken;
  /** Defaults to the `CommandSigner` class. */
  commandSigner?: InjectionToken;
}

const redisProvider = {
  provide: FLEET_REDIS,
  inject: [SERVER_CONFIG],
  useFactory: (config: ServerConfig) => new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3, enableOfflineQueue: true }),
};
const loggerProvider = {
  provide: FLEET_LOGGER,
  inject: [SERVER_CONFIG],
  useFactory: (config: ServerConfig) => createLogger('fleet', { level: config.LOG_LEVEL }),
};
const presenceProvider = {
  provide: NodePresenceStore,
  inject: [FLEET_REDIS, SERVER_CONFIG],
  useFactory: (redis: Redis, config: ServerConfig) => new NodePresenceStore(redis, config.REDIS_PREFIX),
};
const writerProvider = { provide: NodeStateWriter, inject: [DataSource], useFactory: (ds: DataSource) => new NodeStateWriter(ds) };

/**
 * api side: the agent gRPC server (Enroll + Connect) on GRPC_BIND, started when the application
 * has booted and stopped before it shuts down (the app must call `enableShutdownHooks()`).
 * Needs ServerConfigModule and DatabaseModule (global) and the commands side.
 */
@Module({})
export class FleetModule implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(AgentGrpcServer) private readonly server: AgentGrpcServer,
    @Inject(FLEET_REDIS) private readonly redis: Redis,
  ) {}

  static forApi(options: FleetModuleOptions = {}): DynamicModule {
    return {
      module: FleetModule,
      imports: options.imports ?? [],
      providers: [
        redisProvider,
        loggerProvider,
        presenceProvider,
        writerProvider,
        { provide: AGENT_COMMANDS, useExisting: options.commands ?? CommandsService },
        {
          provide: EnrollmentService,
          inject: [DataSource, options.natsLink ?? NatsLink, options.commandSigner ?? CommandSigner, SERVER_CONFIG, FLEET_LOGGER],
          useFactory: (ds: DataSource, nats: NatsLink, signer: CommandSigner, config: ServerConfig, logger: Logger) =>
            new EnrollmentService(
              ds,
              () => nats.jetstreamManager(),
              {
                heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS,
                natsAgentServers: config.NATS_AGENT_SERVERS,
                commandSigningPublicKeyPem: signer.publicKeyPem,
                natsCredentials: config.NATS_ACCOUNT_SIGNING_SEED_FILE
                  ? new AgentNatsCredentials(readConfigFile('NATS_ACCOUNT_SIGNING_SEED_FILE', config.NATS_ACCOUNT_SIGNING_SEED_FILE), config.NATS_ACCOUNT_PUBLIC_KEY)
                  : undefined,
                ensureCommandStream: (jsm) => ensureCommandStream(jsm, commandStreamConfig()),
              },
              logger.child({ component: 'enrollment' }),
            ),
        },
        {
          provide: AgentAuthenticator,
          inject: [DataSource, FLEET_REDIS, SERVER_CONFIG],
          useFactory: (ds: DataSource, redis: Redis, config: ServerConfig) => new AgentAuthenticator(ds, redis, config.REDIS_PREFIX),
        },
        {
          provide: AgentStreamService,
          inject: [DataSource, AgentAuthenticator, NodePresenceStore, NodeStateWriter, AGENT_COMMANDS, SERVER_CONFIG, FLEET_LOGGER],
          useFactory: (ds: DataSource, auth: AgentAuthenticator, presence: NodePresenceStore, writer: NodeStateWriter, commands: AgentCommandPort, config: ServerConfig, logger: Logger) =>
            new AgentStreamService(ds, auth, presence, writer, commands, { heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS }, logger.child({ component: 'agent-stream' })),
        },
        {
          provide: AgentGrpcServer,
          inject: [EnrollmentService, AgentStreamService, SERVER_CONFIG, FLEET_LOGGER],
          useFactory: (enrollment: EnrollmentService, streams: AgentStreamService, config: ServerConfig, logger: Logger) =>
            new AgentGrpcServer(enrollment, streams, { bind: config.GRPC_BIND, tls: grpcTls(config) }, logger.child({ component: 'grpc' })),
        },
      ],
      exports: [AgentGrpcServer, EnrollmentService, NodePresenceStore],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.server.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.server.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * The agent gRPC server's TLS from the config. Plaintext only when GRPC_INSECURE says so: an api
 * with neither refuses to start rather than carry enrollment tokens in clear.
 */
export function grpcTls(config: Pick<ServerConfig, 'GRPC_TLS_CERT_FILE' | 'GRPC_TLS_KEY_FILE' | 'GRPC_INSECURE'>): { certPem: string; keyPem: string } | undefined {
  const cert = config.GRPC_TLS_CERT_FILE;
  const key = config.GRPC_TLS_KEY_FILE;
  if (!cert !== !key) throw new ConfigError('GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE must be set together');
  if (cert && key) {
    if (config.GRPC_INSECURE) throw new ConfigError('GRPC_INSECURE=true contradicts GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE: set one or the other');
    return { certPem: readConfigFile('GRPC_TLS_CERT_FILE', cert), keyPem: readConfigFile('GRPC_TLS_KEY_FILE', key) };
  }
  if (!config.GRPC_INSECURE) {
    throw new ConfigError(
      'agent gRPC needs TLS: set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE (PEM), or GRPC_INSECURE=true for a development control plane (enrollment tokens and agent credentials then cross the network in clear)',
    );
  }
  return undefined;
}

/**
 * worker side: the liveness sweeper, started on boot in every worker replica (a Redis lock lets
 * one sweep at a time) and stopped on shutdown. Needs ServerConfigModule and DatabaseModule.
 */
@Module({})
export class LivenessModule implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(LivenessSweeper) private readonly sweeper: LivenessSweeper,
    @Inject(FLEET_REDIS) private readonly redis: Redis,
  ) {}

  static forWorker(): DynamicModule {
    return {
      module: LivenessModule,
      providers: [
        redisProvider,
        loggerProvider,
        presenceProvider,
        writerProvider,
        {
          provide: LivenessSweeper,
          inject: [FLEET_REDIS, DataSource, NodePresenceStore, NodeStateWriter, SERVER_CONFIG, FLEET_LOGGER],
          useFactory: (redis: Redis, ds: DataSource, presence: NodePresenceStore, writer: NodeStateWriter, config: ServerConfig, logger: Logger) =>
            new LivenessSweeper(redis, ds, presence, writer, { heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS, redisPrefix: config.REDIS_PREFIX }, logger.child({ component: 'liveness' })),
        },
      ],
      exports: [LivenessSweeper, NodePresenceStore],
    };
  }

  onApplicationBootstrap(): void {
    this.sweeper.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sweeper.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
