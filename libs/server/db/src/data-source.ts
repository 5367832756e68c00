import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { SnakeNamingStrategy } from './naming.strategy';

/** Migration files (`migrations/<timestamp>-<what>.ts` at the repo root), loaded by TypeORM. */
export const MIGRATIONS_GLOB = join(__dirname, '..', '..', '..', '..', 'migrations', '*-*.ts');

export interface DataSourceFactoryOptions {
  /** Load the migration files too (the CLI and test template need them; the app does not). */
  withMigrations?: boolean;
  poolSize?: number;
  logging?: boolean;
  applicationName?: string;
}

/** TypeORM options for the one Postgres database. `synchronize` is never on: migrations own the schema. */
export function dataSourceOptions(url: string, opts: DataSourceFactoryOptions = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: opts.withMigrations ? [MIGRATIONS_GLOB] : [],
    migrationsTableName: 'typeorm_migrations',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    migrationsRun: false,
    uuidExtension: 'pgcrypto',
    // Failed queries surface as errors to their caller (and INTERNAL ones are logged there as JSON);
    // TypeORM's own console logging would print expected ones such as unique violations.
    logging: opts.logging ? ['query', 'error'] : false,
    applicationName: opts.applicationName ?? 'triad',
    extra: { max: opts.poolSize ?? 10 },
  };
}

export function createDataSource(url: string, opts: DataSourceFactoryOptions = {}): DataSource {
  return new DataSource(dataSourceOptions(url, opts));
}
