import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/agent';

export const PROTO_ROOT = join(__dirname, '..', '..', '..', 'proto');
export const AGENT_PROTO_FILE = 'triad/agent/v1/agent.proto';

/** Loader options shared by server, agent and the type generator (tools/gen-proto.sh). */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export function loadAgentProto(): ProtoGrpcType {
  const definition = protoLoader.loadSync(AGENT_PROTO_FILE, PROTO_LOADER_OPTIONS);
  return grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
}
