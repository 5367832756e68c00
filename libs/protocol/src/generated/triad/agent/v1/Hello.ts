// Original file: proto/triad/agent/v1/agent.proto

import type { Facts as _triad_agent_v1_Facts, Facts__Output as _triad_agent_v1_Facts__Output } from '../../../triad/agent/v1/Facts';
import type { ArtifactDigest as _triad_agent_v1_ArtifactDigest, ArtifactDigest__Output as _triad_agent_v1_ArtifactDigest__Output } from '../../../triad/agent/v1/ArtifactDigest';
import type { Long } from '@grpc/proto-loader';

export interface Hello {
  'agentVersion'?: (string);
  'appliedRevision'?: (number | string | Long);
  'appliedGeneration'?: (number | string | Long);
  'facts'?: (_triad_agent_v1_Facts | null);
  'appliedArtifacts'?: (_triad_agent_v1_ArtifactDigest)[];
}

export interface Hello__Output {
  'agentVersion': (string);
  'appliedRevision': (number);
  'appliedGeneration': (number);
  'facts': (_triad_agent_v1_Facts__Output | null);
  'appliedArtifacts': (_triad_agent_v1_ArtifactDigest__Output)[];
}
