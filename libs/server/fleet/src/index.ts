export * from './agent-authenticator';
export * from './agent-grpc.server';
export * from './agent-stream.service';
export * from './fleet.module';
export * from './liveness.sweeper';
export * from './node-presence.store';
export * from './node-state.writer';
export * from './redis-leader-lock';
