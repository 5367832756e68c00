import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentMessage as _triad_agent_v1_AgentMessage, AgentMessage__Output as _triad_agent_v1_AgentMessage__Output } from './triad/agent/v1/AgentMessage';
import type { AgentServiceClient as _triad_agent_v1_AgentServiceClient, AgentServiceDefinition as _triad_agent_v1_AgentServiceDefinition } from './triad/agent/v1/AgentService';
import type { ArtifactDigest as _triad_agent_v1_ArtifactDigest, ArtifactDigest__Output as _triad_agent_v1_ArtifactDigest__Output } from './triad/agent/v1/ArtifactDigest';
import type { CommandUpdate as _triad_agent_v1_CommandUpdate, CommandUpdate__Output as _triad_agent_v1_CommandUpdate__Output } from './triad/agent/v1/CommandUpdate';
import type { ComponentHealth as _triad_agent_v1_ComponentHealth, ComponentHealth__Output as _triad_agent_v1_ComponentHealth__Output } from './triad/agent/v1/ComponentHealth';
import type { DesiredState as _triad_agent_v1_DesiredState, DesiredState__Output as _triad_agent_v1_DesiredState__Output } from './triad/agent/v1/DesiredState';
import type { EnrollRequest as _triad_agent_v1_EnrollRequest, EnrollRequest__Output as _triad_agent_v1_EnrollRequest__Output } from './triad/agent/v1/EnrollRequest';
import type { EnrollResponse as _triad_agent_v1_EnrollResponse, EnrollResponse__Output as _triad_agent_v1_EnrollResponse__Output } from './triad/agent/v1/EnrollResponse';
import type { Facts as _triad_agent_v1_Facts, Facts__Output as _triad_agent_v1_Facts__Output } from './triad/agent/v1/Facts';
import type { Heartbeat as _triad_agent_v1_Heartbeat, Heartbeat__Output as _triad_agent_v1_Heartbeat__Output } from './triad/agent/v1/Heartbeat';
import type { Hello as _triad_agent_v1_Hello, Hello__Output as _triad_agent_v1_Hello__Output } from './triad/agent/v1/Hello';
import type { NatsAccess as _triad_agent_v1_NatsAccess, NatsAccess__Output as _triad_agent_v1_NatsAccess__Output } from './triad/agent/v1/NatsAccess';
import type { ServerMessage as _triad_agent_v1_ServerMessage, ServerMessage__Output as _triad_agent_v1_ServerMessage__Output } from './triad/agent/v1/ServerMessage';
import type { Settings as _triad_agent_v1_Settings, Settings__Output as _triad_agent_v1_Settings__Output } from './triad/agent/v1/Settings';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  triad: {
    agent: {
      v1: {
        AgentMessage: MessageTypeDefinition<_triad_agent_v1_AgentMessage, _triad_agent_v1_AgentMessage__Output>
        AgentService: SubtypeConstructor<typeof grpc.Client, _triad_agent_v1_AgentServiceClient> & { service: _triad_agent_v1_AgentServiceDefinition }
        ArtifactDigest: MessageTypeDefinition<_triad_agent_v1_ArtifactDigest, _triad_agent_v1_ArtifactDigest__Output>
        CommandState: EnumTypeDefinition
        CommandUpdate: MessageTypeDefinition<_triad_agent_v1_CommandUpdate, _triad_agent_v1_CommandUpdate__Output>
        ComponentHealth: MessageTypeDefinition<_triad_agent_v1_ComponentHealth, _triad_agent_v1_ComponentHealth__Output>
        ComponentState: EnumTypeDefinition
        DesiredState: MessageTypeDefinition<_triad_agent_v1_DesiredState, _triad_agent_v1_DesiredState__Output>
        EnrollFailure: EnumTypeDefinition
        EnrollRequest: MessageTypeDefinition<_triad_agent_v1_EnrollRequest, _triad_agent_v1_EnrollRequest__Output>
        EnrollResponse: MessageTypeDefinition<_triad_agent_v1_EnrollResponse, _triad_agent_v1_EnrollResponse__Output>
        Facts: MessageTypeDefinition<_triad_agent_v1_Facts, _triad_agent_v1_Facts__Output>
        Heartbeat: MessageTypeDefinition<_triad_agent_v1_Heartbeat, _triad_agent_v1_Heartbeat__Output>
        Hello: MessageTypeDefinition<_triad_agent_v1_Hello, _triad_agent_v1_Hello__Output>
        NatsAccess: MessageTypeDefinition<_triad_agent_v1_NatsAccess, _triad_agent_v1_NatsAccess__Output>
        ServerMessage: MessageTypeDefinition<_triad_agent_v1_ServerMessage, _triad_agent_v1_ServerMessage__Output>
        Settings: MessageTypeDefinition<_triad_agent_v1_Settings, _triad_agent_v1_Settings__Output>
      }
    }
  }
}

