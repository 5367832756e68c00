import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Tenant } from './tenant.entity';

/** The kinds of outbox rows; the one place that names them (writers and the relay's handlers). */
export const OUTBOX_REVISION_CREATED = 'cluster.revision.created';
export const OUTBOX_COMMAND_PUBLISH = 'command.publish';

/**
 * Events written in the same transaction as the change they announce; a relay publishes them.
 * `id` is a bigserial kept as a string (pg's int8): it is an opaque, ordered identifier.
 */
@Entity('outbox')
@Index('outbox_unpublished_idx', ['availableAt', 'id'], { where: 'published_at IS NULL' })
export class Outbox {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('uuid')
  tenantId!: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn()
  tenant?: Tenant;

  /** OUTBOX_REVISION_CREATED or OUTBOX_COMMAND_PUBLISH. */
  @Column('text')
  kind!: string;

  @Column('text')
  aggregateId!: string;

  @Column('jsonb')
  payload!: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { default: () => 'now()' })
  availableAt!: Date;

  @Column('timestamptz', { nullable: true })
  publishedAt!: Date | null;

  @Column('int', { default: 0 })
  attempts!: number;

  @Column('text', { nullable: true })
  lastError!: string | null;
}
