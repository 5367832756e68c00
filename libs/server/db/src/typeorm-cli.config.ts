// Data source for the TypeORM CLI (tools/db.sh): entities + migration files, DATABASE_URL only.
import { loadDatabaseConfig } from '@triad/server-core';
import { createDataSource } from './data-source';

export default createDataSource(loadDatabaseConfig().DATABASE_URL, { withMigrations: true, applicationName: 'triad-migrations' });
