export * from './processes';
export * from './graphql-client';
export * from './nats-server';
export * from './process-group';
export * from './galera-cluster';
export * from './rabbitmq-cluster';
export * from './lab-spec';
export * from './database';
