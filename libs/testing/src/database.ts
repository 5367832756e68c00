import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { REPO_ROOT } from './processes';

/**
 * A fresh PostgreSQL database per test file, copied from a template database that has every
 * migration applied. The template is built once per set of migration files (its name carries
 * their hash) under an advisory lock, so parallel Jest workers neither race nor rebuild it.
 */
export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

const MIGRATIONS_DIR = join(REPO_ROOT, 'migrations');
const TEMPLATE_LOCK = 'triad:test-template';

function serverUrl(database: string): string {
  const u = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  u.pathname = `/${database}`;
  return u.toString();
}

async function withAdmin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: serverUrl('postgres'), application_name: 'triad-test-db' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d+-.+\.ts$/.test(f))
    .sort();
}

function templateName(): string {
  const h = createHash('sha256');
  for (const f of migrationFiles()) h.update(f).update(readFileSync(join(MIGRATIONS_DIR, f)));
  return `triad_tmpl_${h.digest('hex').slice(0, 16)}`;
}

async function buildTemplate(admin: Client, name: string): Promise<void> {
  const existing = await admin.query<{ datistemplate: boolean }>('SELECT datistemplate FROM pg_database WHERE datname = $1', [name]);
  if (existing.rows[0]?.datistemplate) return;
  // Not a template yet means an earlier build died half-way: start over.
  if (existing.rows[0]) await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
  // Templates of older migration sets are no longer useful.
  const stale = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'triad\\_tmpl\\_%' AND datname <> $1", [name]);
  for (const { datname } of stale.rows) {
    await admin.query(`ALTER DATABASE "${datname}" IS_TEMPLATE false`);
    await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
  await admin.query(`CREATE DATABASE "${name}"`);
  const ds = new DataSource({
    type: 'postgres',
    url: serverUrl(name),
    migrations: migrationFiles().map((f) => join(MIGRATIONS_DIR, f)),
    migrationsTableName: 'typeorm_migrations',
    logging: ['error'],
  });
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
  await admin.query(`ALTER DATABASE "${name}" IS_TEMPLATE true`);
}

/** Creates `triad_t_<label>_<random>` from the migrated template; `drop()` removes it. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const template = templateName();
  const name = `triad_t_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  await withAdmin(async (admin) => {
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [TEMPLATE_LOCK]);
    try {
      await buildTemplate(admin, template);
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [TEMPLATE_LOCK]);
    }
  });
  return {
    name,
    url: serverUrl(name),
    drop: () => withAdmin(async (admin) => void (await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}
