import { MigrationInterface, QueryRunner } from "typeorm";

export class Scaleout1795485490487 implements MigrationInterface {
    name = 'Scaleout1795485490487'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "enrollment_tokens"
            ADD "allow_new_nodes" boolean NOT NULL DEFAULT false
        `);
        await queryRunner.query(`
            ALTER TYPE "public"."audit_actor_type"
            ADD VALUE 'enrollment_token'
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TYPE "public"."audit_actor_type_old" AS ENUM('api_token', 'agent', 'system')
        `);
        await queryRunner.query(`
            ALTER TABLE "audit_events"
            ALTER COLUMN "actor_type" TYPE "public"."audit_actor_type_old" USING "actor_type"::"text"::"public"."audit_actor_type_old"
        `);
        await queryRunner.query(`
            DROP TYPE "public"."audit_actor_type"
        `);
        await queryRunner.query(`
            ALTER TYPE "public"."audit_actor_type_old"
            RENAME TO "audit_actor_type"
        `);
        await queryRunner.query(`
            ALTER TABLE "enrollment_tokens" DROP COLUMN "allow_new_nodes"
        `);
    }

}
