export * from './entities';
export * from './naming.strategy';
export * from './data-source';
export * from './database.module';
export * from './secrets';
export * from './tenant-scoped.repository';
export * from './audit';
export * from './pg-errors';
