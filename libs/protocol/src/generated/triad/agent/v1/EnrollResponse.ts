// Original file: proto/triad/agent/v1/agent.proto

import type { NatsAccess as _triad_agent_v1_NatsAccess, NatsAccess__Output as _triad_agent_v1_NatsAccess__Output } from '../../../triad/agent/v1/NatsAccess';

export interface EnrollResponse {
  'nodeId'?: (string);
  'tenantId'?: (string);
  'clusterId'?: (string);
  'nodeName'?: (string);
  'commandSigningPublicKeyPem'?: (string);
  'nats'?: (_triad_agent_v1_NatsAccess | null);
  'heartbeatIntervalMs'?: (number);
}

export interface EnrollResponse__Output {
  'nodeId': (string);
  'tenantId': (string);
  'clusterId': (string);
  'nodeName': (string);
  'commandSigningPublicKeyPem': (string);
  'nats': (_triad_agent_v1_NatsAccess__Output | null);
  'heartbeatIntervalMs': (number);
}
