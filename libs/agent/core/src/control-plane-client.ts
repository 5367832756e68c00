import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { loadAgentProto, type AgentServiceClient } from '@triad/protocol';
import type { AgentConfig } from './config';

/**
 * A gRPC client for AgentService: TLS, verified against the configured CA bundle or else the
 * system's trusted CAs; plaintext only when the config says `grpcInsecure` (labs, development).
 */
export function createControlPlaneClient(config: Pick<AgentConfig, 'controlPlane'> & Partial<Pick<AgentConfig, 'grpcTlsCaFile' | 'grpcInsecure'>>): AgentServiceClient {
  const proto = loadAgentProto();
  const credentials = config.grpcInsecure
    ? grpc.credentials.createInsecure()
    : grpc.credentials.createSsl(config.grpcTlsCaFile ? readFileSync(config.grpcTlsCaFile) : null);
  return new proto.triad.agent.v1.AgentService(config.controlPlane, credentials, {
    // A stream idle between heartbeats must still notice a dead peer.
    'grpc.keepalive_time_ms': 20_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
}
