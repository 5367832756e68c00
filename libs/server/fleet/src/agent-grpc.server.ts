import * as grpc from '@grpc/grpc-js';
import { EnrollmentRefusedException, type EnrollmentService } from '@triad/enrollment';
import type { Logger } from '@triad/logging';
import { loadAgentProto, type AgentServiceHandlers } from '@triad/protocol';
import type { AgentStreamService } from './agent-stream.service';

export interface AgentGrpcServerOptions {
  /** host:port (GRPC_BIND), or several comma-separated; port 0 picks a free one (tests). */
  bind: string;
  /** PEM contents; without them the server listens in plaintext (dev and lab only). */
  tls?: { certPem: string; keyPem: string };
  /** How long shutdown waits for in-flight Enroll calls before cutting them. */
  shutdownGraceMs?: number;
}

/** The agent-facing gRPC server: `Enroll` and the `Connect` stream. */
export class AgentGrpcServer {
  private server?: grpc.Server;
  private boundPort?: number;

  constructor(
    private readonly enrollment: EnrollmentService,
    private readonly streams: AgentStreamService,
    private readonly options: AgentGrpcServerOptions,
    private readonly logger: Logger,
  ) {}

  get port(): number {
    if (this.boundPort === undefined) throw new Error('agent gRPC server is not started');
    return this.boundPort;
  }

  async start(): Promise<number> {
    const server = new grpc.Server({
      // Agents hold one stream each for days; keepalive notices dead peers behind NAT/firewalls.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    });
    const handlers: AgentServiceHandlers = {
      Enroll: (call, callback) => {
        this.enrollment.enroll(call.request).then(
          (response) => callback(null, response),
          (err: unknown) => {
            if (err instanceof EnrollmentRefusedException) {
              // The token itself is never logged, only the reason.
              this.logger.warn({ reason: err.reason, peer: call.getPeer(), hostname: call.request.facts?.hostname }, `enrollment refused: ${err.message}`);
              callback(err.toGrpcError());
              return;
            }
            this.logger.error({ err, peer: call.getPeer() }, 'enrollment failed');
            callback({ code: grpc.status.UNAVAILABLE, details: 'enrollment could not be completed now; retry' });
          },
        );
      },
      Connect: (call) => this.streams.handle(call),
    };
    server.addService(loadAgentProto().triad.agent.v1.AgentService.service, handlers);
    const credentials = this.options.tls
      ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(this.options.tls.certPem), private_key: Buffer.from(this.options.tls.keyPem) }], false)
      : grpc.ServerCredentials.createInsecure();
    // A comma list binds several addresses (loopback and a lab gateway); `port` is the first one's.
    const ports: number[] = [];
    for (const bind of this.options.bind.split(',').map((b) => b.trim()).filter(Boolean)) {
      ports.push(await new Promise<number>((resolve, reject) => server.bindAsync(bind, credentials, (err, port) => (err ? reject(err) : resolve(port)))));
    }
    const [first] = ports;
    if (first === undefined) throw new Error(`GRPC_BIND "${this.options.bind}" names no address`);
    this.boundPort = first;
    this.server = server;
    this.logger.info({ bind: this.options.bind, port: this.boundPort, tls: !!this.options.tls }, 'agent gRPC server listening');
    if (!this.options.tls) this.logger.warn({ bind: this.options.bind }, 'agent gRPC is plaintext (GRPC_INSECURE): enrollment tokens and agent credentials cross the network in clear; development and labs only');
    return this.boundPort;
  }

  /** Ends agent streams (they reconnect elsewhere), lets Enroll calls finish, then stops. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    this.streams.closeAll();
    const grace = this.options.shutdownGraceMs ?? 5_000;
    const finished = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), grace);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!finished) {
      this.logger.warn({ graceMs: grace }, 'agent gRPC calls still running after the grace period; cutting them');
      server.forceShutdown();
    }
    this.logger.info('agent gRPC server stopped');
  }
}
