// Original file: proto/triad/agent/v1/agent.proto

import type { Facts as _triad_agent_v1_Facts, Facts__Output as _triad_agent_v1_Facts__Output } from '../../../triad/agent/v1/Facts';

export interface EnrollRequest {
  'token'?: (string);
  'publicKeyPem'?: (string);
  'facts'?: (_triad_agent_v1_Facts | null);
  'natsUserPublicKey'?: (string);
  'nodeName'?: (string);
}

export interface EnrollRequest__Output {
  'token': (string);
  'publicKeyPem': (string);
  'facts': (_triad_agent_v1_Facts__Output | null);
  'natsUserPublicKey': (string);
  'nodeName': (string);
}
