import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Cluster } from './cluster.entity';
import { RemediationRunStatus } from './enums';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** An approval (or rejection) of a run, as recorded on it. */
export interface RemediationApproval {
  /** What was approved: the run itself, or a Galera bootstrap on partial data. */
  scope: 'RUN' | 'BOOTSTRAP_PARTIAL';
  decision: 'APPROVED' | 'REJECTED';
  actorType: string;
  actorId: string | null;
  at: string;
  reason: string | null;
}

/** One playbook run against one cluster (see docs/remediation.md). */
@Entity('remediation_runs')
@Index(['clusterId', 'createdAt'])
@Index(['status'])
@Index(['tenantId'])
export class RemediationRun extends TenantOwnedEntity {
  @Column('uuid')
  clusterId!: string;

  @ManyToOne(() => Cluster, { onDelete: 'CASCADE' })
  @JoinColumn()
  cluster?: Cluster;

  @Column('text')
  playbook!: string;

  /** The findings (contract A keys) this run repairs. */
  @Column('jsonb', { default: () => "'[]'" })
  findingKeys!: string[];

  /** The node the run works on (a cluster-wide playbook: null). */
  @Column('text', { nullable: true })
  nodeName!: string | null;

  @Column({ type: 'enum', enum: RemediationRunStatus, enumName: 'remediation_run_status', default: RemediationRunStatus.QUEUED })
  status!: RemediationRunStatus;

  /** Why it was planned, and later why it ended as it did. */
  @Column('text', { nullable: true })
  reason!: string | null;

  /** What an approval is being waited for while AWAITING_APPROVAL. */
  @Column('text', { nullable: true })
  awaiting!: 'RUN' | 'BOOTSTRAP_PARTIAL' | null;

  @Column('jsonb', { default: () => "'[]'" })
  approvals!: RemediationApproval[];

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  finishedAt!: Date | null;
}
