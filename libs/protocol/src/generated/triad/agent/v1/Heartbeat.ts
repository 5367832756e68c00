// Original file: proto/triad/agent/v1/agent.proto

import type { ComponentHealth as _triad_agent_v1_ComponentHealth, ComponentHealth__Output as _triad_agent_v1_ComponentHealth__Output } from '../../../triad/agent/v1/ComponentHealth';
import type { ArtifactDigest as _triad_agent_v1_ArtifactDigest, ArtifactDigest__Output as _triad_agent_v1_ArtifactDigest__Output } from '../../../triad/agent/v1/ArtifactDigest';
import type { Long } from '@grpc/proto-loader';

export interface Heartbeat {
  'seq'?: (number | string | Long);
  'appliedRevision'?: (number | string | Long);
  'components'?: (_triad_agent_v1_ComponentHealth)[];
  'appliedArtifacts'?: (_triad_agent_v1_ArtifactDigest)[];
  'sentAtMs'?: (number | string | Long);
}

export interface Heartbeat__Output {
  'seq': (number);
  'appliedRevision': (number);
  'components': (_triad_agent_v1_ComponentHealth__Output)[];
  'appliedArtifacts': (_triad_agent_v1_ArtifactDigest__Output)[];
  'sentAtMs': (number);
}
