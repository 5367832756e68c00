export * from './config';
export * from './config.module';
export * from './errors';
export * from './graphql-exception.filter';
export * from './graphql/json.scalar';
export * from './graphql/connection';
export * from './shutdown';
export * from './tenant-events';
