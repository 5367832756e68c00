export * from './command-outcome';
export * from './command-signer';
export * from './command-stream';
export * from './command-status';
export * from './command-publisher';
export * from './commands.module';
export * from './commands.service';
// Test support: builders for integration tests of this library and of apps/worker.
export * from './commands.fixtures';
export * from './nats-link';
export * from './node-action.service';
export * from './node-selection';
export * from './outbox-notify';
export * from './outbox-relay';
export * from './reconciler';
