export * from './processes';
export * from './graphql-client';
export * from './nats-server';
