import { Column, CreateDateColumn, Entity, Index } from 'typeorm';
import { AuditActorType } from './enums';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** Who did what to which object; written in the transaction of the change. */
@Entity('audit_events')
@Index(['tenantId', 'createdAt'])
@Index(['targetType', 'targetId'])
export class AuditEvent extends TenantOwnedEntity {
  @Column({ type: 'enum', enum: AuditActorType, enumName: 'audit_actor_type' })
  actorType!: AuditActorType;

  /** ApiToken id, Node id, EnrollmentToken id, or null for the system. */
  @Column('text', { nullable: true })
  actorId!: string | null;

  /** e.g. `cluster.spec.updated`. */
  @Column('text')
  action!: string;

  @Column('text')
  targetType!: string;

  @Column('text', { nullable: true })
  targetId!: string | null;

  @Column('jsonb', { default: () => "'{}'" })
  detail!: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
