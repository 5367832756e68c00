import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Wakes the outbox relay (LISTEN triad_outbox) when outbox rows commit, whoever inserted them.
 * NOTIFY is delivered at commit, never for a rolled-back transaction, and folded per transaction.
 */
export class OutboxNotify1795474557934 implements MigrationInterface {
  name = 'OutboxNotify1795474557934';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION triad_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('triad_outbox', '');
        RETURN NULL;
      END $$
    `);
    await queryRunner.query(`CREATE TRIGGER outbox_notify AFTER INSERT ON "outbox" FOR EACH STATEMENT EXECUTE FUNCTION triad_outbox_notify()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER outbox_notify ON "outbox"`);
    await queryRunner.query(`DROP FUNCTION triad_outbox_notify()`);
  }
}
