// Original file: proto/triad/agent/v1/agent.proto

import type { Hello as _triad_agent_v1_Hello, Hello__Output as _triad_agent_v1_Hello__Output } from '../../../triad/agent/v1/Hello';
import type { Heartbeat as _triad_agent_v1_Heartbeat, Heartbeat__Output as _triad_agent_v1_Heartbeat__Output } from '../../../triad/agent/v1/Heartbeat';
import type { CommandUpdate as _triad_agent_v1_CommandUpdate, CommandUpdate__Output as _triad_agent_v1_CommandUpdate__Output } from '../../../triad/agent/v1/CommandUpdate';

export interface AgentMessage {
  'hello'?: (_triad_agent_v1_Hello | null);
  'heartbeat'?: (_triad_agent_v1_Heartbeat | null);
  'commandUpdate'?: (_triad_agent_v1_CommandUpdate | null);
  'body'?: "hello"|"heartbeat"|"commandUpdate";
}

export interface AgentMessage__Output {
  'hello'?: (_triad_agent_v1_Hello__Output | null);
  'heartbeat'?: (_triad_agent_v1_Heartbeat__Output | null);
  'commandUpdate'?: (_triad_agent_v1_CommandUpdate__Output | null);
  'body'?: "hello"|"heartbeat"|"commandUpdate";
}
