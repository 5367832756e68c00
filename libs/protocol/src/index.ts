export * from './subjects';
export * from './command';
export * from './agent-auth';
export * from './agent-proto';
export type * from './generated/agent';
export type * from './generated/triad/agent/v1/AgentService';
