// Original file: proto/triad/agent/v1/agent.proto

import type { Settings as _triad_agent_v1_Settings, Settings__Output as _triad_agent_v1_Settings__Output } from '../../../triad/agent/v1/Settings';
import type { DesiredState as _triad_agent_v1_DesiredState, DesiredState__Output as _triad_agent_v1_DesiredState__Output } from '../../../triad/agent/v1/DesiredState';

export interface ServerMessage {
  'settings'?: (_triad_agent_v1_Settings | null);
  'desired'?: (_triad_agent_v1_DesiredState | null);
  'body'?: "settings"|"desired";
}

export interface ServerMessage__Output {
  'settings'?: (_triad_agent_v1_Settings__Output | null);
  'desired'?: (_triad_agent_v1_DesiredState__Output | null);
  'body'?: "settings"|"desired";
}
