export * from './subjects';
export * from './command';
export * from './agent-auth';
export * from './agent-proto';
export type * from './generated/agent';
export type * from './generated/triad/agent/v1/AgentService';
export type * from './generated/triad/agent/v1/CommandUpdate';
export type * from './generated/triad/agent/v1/CommandState';
export type * from './generated/triad/agent/v1/ArtifactDigest';
