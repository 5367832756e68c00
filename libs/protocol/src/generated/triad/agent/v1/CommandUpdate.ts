// Original file: proto/triad/agent/v1/agent.proto

import type { CommandState as _triad_agent_v1_CommandState, CommandState__Output as _triad_agent_v1_CommandState__Output } from '../../../triad/agent/v1/CommandState';
import type { ArtifactDigest as _triad_agent_v1_ArtifactDigest, ArtifactDigest__Output as _triad_agent_v1_ArtifactDigest__Output } from '../../../triad/agent/v1/ArtifactDigest';
import type { Long } from '@grpc/proto-loader';

export interface CommandUpdate {
  'commandId'?: (string);
  'state'?: (_triad_agent_v1_CommandState);
  'message'?: (string);
  'revision'?: (number | string | Long);
  'generation'?: (number | string | Long);
  'artifacts'?: (_triad_agent_v1_ArtifactDigest)[];
  'atMs'?: (number | string | Long);
  'reason'?: (string);
  'resultJson'?: (string);
}

export interface CommandUpdate__Output {
  'commandId': (string);
  'state': (_triad_agent_v1_CommandState__Output);
  'message': (string);
  'revision': (number);
  'generation': (number);
  'artifacts': (_triad_agent_v1_ArtifactDigest__Output)[];
  'atMs': (number);
  'reason': (string);
  'resultJson': (string);
}
