export * from './command-signer';
export * from './command-stream';
export * from './nats-link';
export * from './node-selection';
