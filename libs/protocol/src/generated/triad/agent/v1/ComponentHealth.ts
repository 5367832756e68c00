// Original file: proto/triad/agent/v1/agent.proto

import type { ComponentState as _triad_agent_v1_ComponentState, ComponentState__Output as _triad_agent_v1_ComponentState__Output } from '../../../triad/agent/v1/ComponentState';

export interface ComponentHealth {
  'component'?: (string);
  'state'?: (_triad_agent_v1_ComponentState);
  'summary'?: (string);
  'detailJson'?: (string);
}

export interface ComponentHealth__Output {
  'component': (string);
  'state': (_triad_agent_v1_ComponentState__Output);
  'summary': (string);
  'detailJson': (string);
}
