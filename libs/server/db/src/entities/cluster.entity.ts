import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { Cloud } from './cloud.entity';
import { ClusterHealth, RemediationPolicy } from './enums';
import { TenantOwnedEntity } from './tenant-owned.entity';

@Entity('clusters')
@Index(['cloudId', 'name'], { unique: true })
@Index(['tenantId', 'createdAt'])
export class Cluster extends TenantOwnedEntity {
  @Column('uuid')
  cloudId!: string;

  @ManyToOne(() => Cloud, { onDelete: 'CASCADE' })
  @JoinColumn()
  cloud?: Cloud;

  @Column('text')
  name!: string;

  /** 0 until the first spec is stored; then the number of the latest ClusterRevision. */
  @Column('int', { default: 0 })
  currentRevision!: number;

  @Column({ type: 'enum', enum: ClusterHealth, enumName: 'cluster_health', default: ClusterHealth.UNKNOWN })
  health!: ClusterHealth;

  /** When `health` last changed (written by the health monitor, only on a change). */
  @Column('timestamptz', { nullable: true })
  healthChangedAt!: Date | null;

  /**
   * AUTOMATIC by default: self-repair is what the cluster is managed for, and the safety rules (not
   * the policy) keep it from making things worse; the reasons are in docs/remediation.md.
   */
  @Column({ type: 'enum', enum: RemediationPolicy, enumName: 'remediation_policy', default: RemediationPolicy.AUTOMATIC })
  remediationPolicy!: RemediationPolicy;

  /** Maintenance: no remediation runs and no findings-driven alerts for the cluster. */
  @Column('boolean', { default: false })
  maintenance!: boolean;

  @Column('text', { nullable: true })
  maintenanceReason!: string | null;

  /** Who turned maintenance on ("api_token:<id>"). */
  @Column('text', { nullable: true })
  maintenanceSetBy!: string | null;

  @Column('timestamptz', { nullable: true })
  maintenanceSince!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
