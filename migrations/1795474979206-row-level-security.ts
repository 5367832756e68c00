import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Row-level security as a backstop behind TenantScopedRepository. Sessions that switch to the
 * `triad_app` role (tenantTransaction in @triad/db: SET LOCAL ROLE triad_app + triad.tenant_id)
 * see and write only rows of that tenant. The owner role that runs migrations, the worker's
 * cross-tenant jobs and the system paths (token lookup, outbox relay) is not subject to it.
 */
const TENANT_TABLES = ['api_tokens', 'clouds', 'clusters', 'cluster_revisions', 'nodes', 'enrollment_tokens', 'commands', 'outbox', 'audit_events'];

export class RowLevelSecurity1795474979206 implements MigrationInterface {
  name = 'RowLevelSecurity1795474979206';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Roles are cluster-wide: another database (or a parallel migration run) may have made it.
    await queryRunner.query(`
      DO $$ BEGIN
        CREATE ROLE triad_app NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$
    `);
    await queryRunner.query(`GRANT USAGE ON SCHEMA public TO triad_app`);
    await queryRunner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO triad_app`);
    await queryRunner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO triad_app`);
    // Tables later migrations add are granted too; they still need their own policy.
    await queryRunner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO triad_app`);
    await queryRunner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO triad_app`);
    for (const table of TENANT_TABLES) {
      await queryRunner.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
      await queryRunner.query(`
        CREATE POLICY tenant_isolation ON "${table}" TO triad_app
        USING (tenant_id = NULLIF(current_setting('triad.tenant_id', true), '')::uuid)
        WITH CHECK (tenant_id = NULLIF(current_setting('triad.tenant_id', true), '')::uuid)
      `);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of TENANT_TABLES) {
      await queryRunner.query(`DROP POLICY tenant_isolation ON "${table}"`);
      await queryRunner.query(`ALTER TABLE "${table}" DISABLE ROW LEVEL SECURITY`);
    }
    await queryRunner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM triad_app`);
    await queryRunner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM triad_app`);
    await queryRunner.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM triad_app`);
    await queryRunner.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM triad_app`);
    await queryRunner.query(`REVOKE USAGE ON SCHEMA public FROM triad_app`);
    // The role stays: other databases on this server may use it.
  }
}
