export * from './processes';
export * from './graphql-client';
