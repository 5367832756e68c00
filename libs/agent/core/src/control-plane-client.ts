import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { loadAgentProto, type AgentServiceClient } from '@triad/protocol';
import type { AgentConfig } from './config';

/** A gRPC client for AgentService; TLS when a CA file is configured. */
export function createControlPlaneClient(config: Pick<AgentConfig, 'controlPlane' | 'grpcTlsCaFile'>): AgentServiceClient {
  const proto = loadAgentProto();
  const credentials = config.grpcTlsCaFile
    ? grpc.credentials.createSsl(readFileSync(config.grpcTlsCaFile))
    : grpc.credentials.createInsecure();
  return new proto.triad.agent.v1.AgentService(config.controlPlane, credentials, {
    // A stream idle between heartbeats must still notice a dead peer.
    'grpc.keepalive_time_ms': 20_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
}
