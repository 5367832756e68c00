// Original file: proto/triad/agent/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentMessage as _triad_agent_v1_AgentMessage, AgentMessage__Output as _triad_agent_v1_AgentMessage__Output } from '../../../triad/agent/v1/AgentMessage';
import type { EnrollRequest as _triad_agent_v1_EnrollRequest, EnrollRequest__Output as _triad_agent_v1_EnrollRequest__Output } from '../../../triad/agent/v1/EnrollRequest';
import type { EnrollResponse as _triad_agent_v1_EnrollResponse, EnrollResponse__Output as _triad_agent_v1_EnrollResponse__Output } from '../../../triad/agent/v1/EnrollResponse';
import type { ServerMessage as _triad_agent_v1_ServerMessage, ServerMessage__Output as _triad_agent_v1_ServerMessage__Output } from '../../../triad/agent/v1/ServerMessage';

export interface AgentServiceClient extends grpc.Client {
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_triad_agent_v1_AgentMessage, _triad_agent_v1_ServerMessage__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_triad_agent_v1_AgentMessage, _triad_agent_v1_ServerMessage__Output>;
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_triad_agent_v1_AgentMessage, _triad_agent_v1_ServerMessage__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_triad_agent_v1_AgentMessage, _triad_agent_v1_ServerMessage__Output>;
  
  Enroll(argument: _triad_agent_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_triad_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _triad_agent_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_triad_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _triad_agent_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_triad_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _triad_agent_v1_EnrollRequest, callback: grpc.requestCallback<_triad_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _triad_agent_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_triad_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _triad_agent_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_triad_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _triad_agent_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_triad_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _triad_agent_v1_EnrollRequest, callback: grpc.requestCallback<_triad_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AgentServiceHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleBidiStreamingCall<_triad_agent_v1_AgentMessage__Output, _triad_agent_v1_ServerMessage>;
  
  Enroll: grpc.handleUnaryCall<_triad_agent_v1_EnrollRequest__Output, _triad_agent_v1_EnrollResponse>;
  
}

export interface AgentServiceDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_triad_agent_v1_AgentMessage, _triad_agent_v1_ServerMessage, _triad_agent_v1_AgentMessage__Output, _triad_agent_v1_ServerMessage__Output>
  Enroll: MethodDefinition<_triad_agent_v1_EnrollRequest, _triad_agent_v1_EnrollResponse, _triad_agent_v1_EnrollRequest__Output, _triad_agent_v1_EnrollResponse__Output>
}
