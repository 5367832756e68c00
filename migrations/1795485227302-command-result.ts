import { MigrationInterface, QueryRunner } from "typeorm";

export class CommandResult1795485227302 implements MigrationInterface {
    name = 'CommandResult1795485227302'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "commands"
            ADD "result" jsonb
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "commands" DROP COLUMN "result"
        `);
    }

}
