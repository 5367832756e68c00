export * from './agent-nats-credentials';
export * from './enrollment.exception';
export * from './enrollment.service';
export * from './node-command-consumer';
