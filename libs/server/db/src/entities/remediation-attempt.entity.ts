import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Cluster } from './cluster.entity';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** Runs started for one finding of a cluster within the current window, and when the next may start. */
@Entity('remediation_attempts')
@Index(['clusterId', 'findingKey'], { unique: true })
@Index(['tenantId'])
export class RemediationAttempt extends TenantOwnedEntity {
  @Column('uuid')
  clusterId!: string;

  @ManyToOne(() => Cluster, { onDelete: 'CASCADE' })
  @JoinColumn()
  cluster?: Cluster;

  @Column('text')
  findingKey!: string;

  /** Runs started in the window that began at windowStartedAt. */
  @Column('int', { default: 0 })
  count!: number;

  @Column('timestamptz')
  windowStartedAt!: Date;

  @Column('timestamptz', { nullable: true })
  lastAttemptAt!: Date | null;

  /** Backoff: no run for this finding before then. */
  @Column('timestamptz', { nullable: true })
  nextAttemptAt!: Date | null;

  /** Set when the cap was hit and the finding was escalated in this window (once). */
  @Column('timestamptz', { nullable: true })
  escalatedAt!: Date | null;
}
