import { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795474296602 implements MigrationInterface {
    name = 'Initial1795474296602'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "tenants" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "name" text NOT NULL,
                "slug" text NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "UQ_2310ecc5cb8be427097154b18fc" UNIQUE ("slug"),
                CONSTRAINT "PK_53be67a04681c66b87ee27c9321" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TYPE "public"."api_token_role" AS ENUM('owner', 'admin', 'operator', 'viewer')
        `);
        await queryRunner.query(`
            CREATE TABLE "api_tokens" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "tenant_id" uuid NOT NULL,
                "name" text NOT NULL,
                "role" "public"."api_token_role" NOT NULL,
                "token_hash" text NOT NULL,
                "prefix" text NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "last_used_at" TIMESTAMP WITH TIME ZONE,
                "expires_at" TIMESTAMP WITH TIME ZONE,
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "UQ_bbd687a104e1921e6702c6e3aad" UNIQUE ("token_hash"),
                CONSTRAINT "PK_c587455266b5fa8dace7194caac" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_94f494c43d7c826fb7be2dfc7c" ON "api_tokens" ("tenant_id", "created_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "clouds" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "tenant_id" uuid NOT NULL,
                "name" text NOT NULL,
                "description" text NOT NULL DEFAULT '',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_48c5a59de00c45507a6f64b1f91" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_8238c9f981d009442c4324b3f9" ON "clouds" ("tenant_id", "created_at")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "IDX_6fa3c33e896d06a734c6d38494" ON "clouds" ("tenant_id", "name")
        `);
        await queryRunner.query(`
            CREATE TYPE "public"."cluster_health" AS ENUM('UNKNOWN', 'HEALTHY', 'DEGRADED', 'CRITICAL')
        `);
        await queryRunner.query(`
            CREATE TABLE "clusters" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "tenant_id" uuid NOT NULL,
                "cloud_id" uuid NOT NULL,
                "name" text NOT NULL,
                "current_revision" integer NOT NULL DEFAULT '0',
                "health" "public"."cluster_health" NOT NULL DEFAULT 'UNKNOWN',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_56c8e201f375e1e961dcdd6831c" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_ab19a2dd5c89bb51a9dec6479a" ON "clusters" ("tenant_id", "created_at")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "IDX_cffb7764efc2a2cea36706f8a9" ON "clusters" ("cloud_id", "name")
        `);
        await queryRunner.query(`
            CREATE TABLE "cluster_revisions" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "tenant_id" uuid NOT NULL,
                "cluster_id" uuid NOT NULL,
                "revision" integer NOT NULL,
                "spec" jsonb NOT NULL,
                "spec_hash" text NOT NULL,
                "artifact_digests" jsonb NOT NULL DEFAULT '{}',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "created_by_token_id" uuid,
                CONSTRAINT "PK_d604f013809fce87e816959ccc0" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_1d9dad8daef6784d785864b5bc" ON "cluster_revisions" ("tenant_id")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "IDX_94b7ae3baf4a08b4b9f5c95917" ON "cluster_revisions" ("cluster_id", "revision")
        `);
        await queryRunner.query(`
            CREATE TABLE "enrollment_tokens" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "tenant_id" uuid NOT NULL,
                "cloud_id" uuid NOT NULL,
                "cluster_id" uuid,
                "name" text NOT NULL,
                "token_hash" text NOT NULL,
                "prefix" text NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "max_uses" integer NOT NULL,
                "uses" integer NOT NULL DEFAULT '0',
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "created_by_token_id" uuid,
                CONSTRAINT "UQ_26dd8dccb908ba72ff0f6fc309f" UNIQUE ("token_hash"),
                CONSTRAINT "PK_d9b043a74d8643fde7e6b948591" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_ccda65e64e7924da93b8e91e95" ON "enrollment_tokens" ("tenant_id", "created_at")
        `);
        await queryRunner.query(`
            CREATE TYPE "public"."node_status" AS ENUM(
                'PENDING',
                'ONLINE',
                'SUSPECT',
                'UNREACHABLE',
                'DECOMMISSIONED'
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "nodes" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "tenant_id" uuid NOT NULL,
                "cluster_id" uuid NOT NULL,
                "name" text NOT NULL,
                "status" "public"."node_status" NOT NULL DEFAULT 'PENDING',
                "status_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "public_key_pem" text,
                "nats_user_public_key" text,
                "facts" jsonb NOT NULL DEFAULT '{}',
                "agent_version" text,
                "applied_revision" integer NOT NULL DEFAULT '0',
                "applied_artifacts" jsonb NOT NULL DEFAULT '{}',
                "health" jsonb,
                "last_heartbeat_at" TIMESTAMP WITH TIME ZONE,
                "command_generation" bigint NOT NULL DEFAULT '0',
                "enrolled_at" TIMESTAMP WITH TIME ZONE,
                "enrollment_token_id" uuid,
                CONSTRAINT "PK_682d6427523a0fa43d062ea03ee" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_95dc05f5e8037965dc2b70f145" ON "nodes" ("tenant_id", "status")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "IDX_6f4a590cfaf7483287f0162fa5" ON "nodes" ("cluster_id", "name")
        `);
        await queryRunner.query(`
            CREATE TYPE "public"."command_status" AS ENUM(
                'PENDING',
                'DELIVERED',
                'RUNNING',
                'SUCCEEDED',
                'FAILED',
                'REFUSED',
                'EXPIRED'
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "commands" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "tenant_id" uuid NOT NULL,
                "cluster_id" uuid NOT NULL,
                "node_id" uuid NOT NULL,
                "verb" text NOT NULL,
                "params" jsonb NOT NULL,
                "revision" integer,
                "generation" bigint NOT NULL,
                "status" "public"."command_status" NOT NULL DEFAULT 'PENDING',
                "reason" text,
                "message" text,
                "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "delivered_at" TIMESTAMP WITH TIME ZONE,
                "started_at" TIMESTAMP WITH TIME ZONE,
                "finished_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_7ac292c3aa19300482b2b190d1e" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_7275a501bf6941b50c30cf6d95" ON "commands" ("tenant_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_ffe282b42797445ca72410c33c" ON "commands" ("node_id", "issued_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_92bc353338fa9be069e3c9659b" ON "commands" ("cluster_id", "issued_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_aafb6b5f655be5f5b18b9ab189" ON "commands" ("node_id", "status")
        `);
        await queryRunner.query(`
            CREATE TABLE "outbox" (
                "id" BIGSERIAL NOT NULL,
                "tenant_id" uuid NOT NULL,
                "kind" text NOT NULL,
                "aggregate_id" text NOT NULL,
                "payload" jsonb NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "available_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "published_at" TIMESTAMP WITH TIME ZONE,
                "attempts" integer NOT NULL DEFAULT '0',
                "last_error" text,
                CONSTRAINT "PK_340ab539f309f03bdaa14aa7649" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "outbox_unpublished_idx" ON "outbox" ("available_at", "id")
            WHERE published_at IS NULL
        `);
        await queryRunner.query(`
            CREATE TYPE "public"."audit_actor_type" AS ENUM('api_token', 'agent', 'system')
        `);
        await queryRunner.query(`
            CREATE TABLE "audit_events" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "tenant_id" uuid NOT NULL,
                "actor_type" "public"."audit_actor_type" NOT NULL,
                "actor_id" text,
                "action" text NOT NULL,
                "target_type" text NOT NULL,
                "target_id" text,
                "detail" jsonb NOT NULL DEFAULT '{}',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_d5de0add56627328f0ce0aba9a" ON "audit_events" ("target_type", "target_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "IDX_a004d14b184c19f8bc3f320d86" ON "audit_events" ("tenant_id", "created_at")
        `);
        await queryRunner.query(`
            ALTER TABLE "api_tokens"
            ADD CONSTRAINT "FK_2c3be6b98e872975a45a982507b" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "clouds"
            ADD CONSTRAINT "FK_58ddf99fd5cfa760c848548897f" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "clusters"
            ADD CONSTRAINT "FK_d181b74c9f52017ad63d3343762" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "clusters"
            ADD CONSTRAINT "FK_a8338b09cf289d0cb101db8d153" FOREIGN KEY ("cloud_id") REFERENCES "clouds"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "cluster_revisions"
            ADD CONSTRAINT "FK_1d9dad8daef6784d785864b5bcf" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "cluster_revisions"
            ADD CONSTRAINT "FK_700fedc9755bb98b456994414db" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "cluster_revisions"
            ADD CONSTRAINT "FK_8bb72fa1ce9539ee17dc73b2b18" FOREIGN KEY ("created_by_token_id") REFERENCES "api_tokens"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "enrollment_tokens"
            ADD CONSTRAINT "FK_b31e2b0493f5317424e040ab9f5" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "enrollment_tokens"
            ADD CONSTRAINT "FK_449ef42aa15ded0e572c1e214d3" FOREIGN KEY ("cloud_id") REFERENCES "clouds"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "enrollment_tokens"
            ADD CONSTRAINT "FK_2940d4138c21dfe9498fb379802" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "enrollment_tokens"
            ADD CONSTRAINT "FK_d303ebe33bf24eebb9e252a1ec0" FOREIGN KEY ("created_by_token_id") REFERENCES "api_tokens"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "nodes"
            ADD CONSTRAINT "FK_c21681c2db857b56e9382a3b2e3" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "nodes"
            ADD CONSTRAINT "FK_1e6db25be4b515e345ed1657180" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "nodes"
            ADD CONSTRAINT "FK_b48b0a70bf14240c4396452c7bb" FOREIGN KEY ("enrollment_token_id") REFERENCES "enrollment_tokens"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "commands"
            ADD CONSTRAINT "FK_7275a501bf6941b50c30cf6d95a" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "commands"
            ADD CONSTRAINT "FK_56ec514c487809660070c39592e" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "commands"
            ADD CONSTRAINT "FK_310e8e4a2b41b1a4cc37f1180b2" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "outbox"
            ADD CONSTRAINT "FK_fe22171ba67910d3b8262c83496" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "audit_events"
            ADD CONSTRAINT "FK_d7ff59f708e396fd6c1656a66e9" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "audit_events" DROP CONSTRAINT "FK_d7ff59f708e396fd6c1656a66e9"
        `);
        await queryRunner.query(`
            ALTER TABLE "outbox" DROP CONSTRAINT "FK_fe22171ba67910d3b8262c83496"
        `);
        await queryRunner.query(`
            ALTER TABLE "commands" DROP CONSTRAINT "FK_310e8e4a2b41b1a4cc37f1180b2"
        `);
        await queryRunner.query(`
            ALTER TABLE "commands" DROP CONSTRAINT "FK_56ec514c487809660070c39592e"
        `);
        await queryRunner.query(`
            ALTER TABLE "commands" DROP CONSTRAINT "FK_7275a501bf6941b50c30cf6d95a"
        `);
        await queryRunner.query(`
            ALTER TABLE "nodes" DROP CONSTRAINT "FK_b48b0a70bf14240c4396452c7bb"
        `);
        await queryRunner.query(`
            ALTER TABLE "nodes" DROP CONSTRAINT "FK_1e6db25be4b515e345ed1657180"
        `);
        await queryRunner.query(`
            ALTER TABLE "nodes" DROP CONSTRAINT "FK_c21681c2db857b56e9382a3b2e3"
        `);
        await queryRunner.query(`
            ALTER TABLE "enrollment_tokens" DROP CONSTRAINT "FK_d303ebe33bf24eebb9e252a1ec0"
        `);
        await queryRunner.query(`
            ALTER TABLE "enrollment_tokens" DROP CONSTRAINT "FK_2940d4138c21dfe9498fb379802"
        `);
        await queryRunner.query(`
            ALTER TABLE "enrollment_tokens" DROP CONSTRAINT "FK_449ef42aa15ded0e572c1e214d3"
        `);
        await queryRunner.query(`
            ALTER TABLE "enrollment_tokens" DROP CONSTRAINT "FK_b31e2b0493f5317424e040ab9f5"
        `);
        await queryRunner.query(`
            ALTER TABLE "cluster_revisions" DROP CONSTRAINT "FK_8bb72fa1ce9539ee17dc73b2b18"
        `);
        await queryRunner.query(`
            ALTER TABLE "cluster_revisions" DROP CONSTRAINT "FK_700fedc9755bb98b456994414db"
        `);
        await queryRunner.query(`
            ALTER TABLE "cluster_revisions" DROP CONSTRAINT "FK_1d9dad8daef6784d785864b5bcf"
        `);
        await queryRunner.query(`
            ALTER TABLE "clusters" DROP CONSTRAINT "FK_a8338b09cf289d0cb101db8d153"
        `);
        await queryRunner.query(`
            ALTER TABLE "clusters" DROP CONSTRAINT "FK_d181b74c9f52017ad63d3343762"
        `);
        await queryRunner.query(`
            ALTER TABLE "clouds" DROP CONSTRAINT "FK_58ddf99fd5cfa760c848548897f"
        `);
        await queryRunner.query(`
            ALTER TABLE "api_tokens" DROP CONSTRAINT "FK_2c3be6b98e872975a45a982507b"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_a004d14b184c19f8bc3f320d86"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_d5de0add56627328f0ce0aba9a"
        `);
        await queryRunner.query(`
            DROP TABLE "audit_events"
        `);
        await queryRunner.query(`
            DROP TYPE "public"."audit_actor_type"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."outbox_unpublished_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "outbox"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_aafb6b5f655be5f5b18b9ab189"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_92bc353338fa9be069e3c9659b"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_ffe282b42797445ca72410c33c"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_7275a501bf6941b50c30cf6d95"
        `);
        await queryRunner.query(`
            DROP TABLE "commands"
        `);
        await queryRunner.query(`
            DROP TYPE "public"."command_status"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_6f4a590cfaf7483287f0162fa5"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_95dc05f5e8037965dc2b70f145"
        `);
        await queryRunner.query(`
            DROP TABLE "nodes"
        `);
        await queryRunner.query(`
            DROP TYPE "public"."node_status"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_ccda65e64e7924da93b8e91e95"
        `);
        await queryRunner.query(`
            DROP TABLE "enrollment_tokens"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_94b7ae3baf4a08b4b9f5c95917"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_1d9dad8daef6784d785864b5bc"
        `);
        await queryRunner.query(`
            DROP TABLE "cluster_revisions"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_cffb7764efc2a2cea36706f8a9"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_ab19a2dd5c89bb51a9dec6479a"
        `);
        await queryRunner.query(`
            DROP TABLE "clusters"
        `);
        await queryRunner.query(`
            DROP TYPE "public"."cluster_health"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_6fa3c33e896d06a734c6d38494"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_8238c9f981d009442c4324b3f9"
        `);
        await queryRunner.query(`
            DROP TABLE "clouds"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."IDX_94f494c43d7c826fb7be2dfc7c"
        `);
        await queryRunner.query(`
            DROP TABLE "api_tokens"
        `);
        await queryRunner.query(`
            DROP TYPE "public"."api_token_role"
        `);
        await queryRunner.query(`
            DROP TABLE "tenants"
        `);
    }

}
