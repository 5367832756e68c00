import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Cluster } from './cluster.entity';
import { RolloutStatus } from './enums';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** One cluster revision going out node by node (see docs/rollouts.md). */
@Entity('rollouts')
@Index(['clusterId', 'createdAt'])
@Index(['status'])
@Index(['tenantId'])
export class Rollout extends TenantOwnedEntity {
  @Column('uuid')
  clusterId!: string;

  @ManyToOne(() => Cluster, { onDelete: 'CASCADE' })
  @JoinColumn()
  cluster?: Cluster;

  /** The cluster's revision before this one (0: none). */
  @Column('int')
  fromRevision!: number;

  @Column('int')
  toRevision!: number;

  @Column({ type: 'enum', enum: RolloutStatus, enumName: 'rollout_status', default: RolloutStatus.PENDING })
  status!: RolloutStatus;

  /** Nodes updating at once. */
  @Column('int', { default: 1 })
  maxUnavailable!: number;

  /** Why it failed, was superseded or aborted. */
  @Column('text', { nullable: true })
  reason!: string | null;

  /** Set by abortRollout; the driver stops at the next safe point and rolls back nodes in flight. */
  @Column('timestamptz', { nullable: true })
  abortRequestedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  finishedAt!: Date | null;
}
