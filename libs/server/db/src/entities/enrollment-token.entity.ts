import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { ApiToken } from './api-token.entity';
import { Cloud } from './cloud.entity';
import { Cluster } from './cluster.entity';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** A one-time-shown secret (`triad_enr_…`) that lets new controllers enroll; stored as sha256. */
@Entity('enrollment_tokens')
@Index(['tenantId', 'createdAt'])
export class EnrollmentToken extends TenantOwnedEntity {
  @Column('uuid')
  cloudId!: string;

  @ManyToOne(() => Cloud, { onDelete: 'CASCADE' })
  @JoinColumn()
  cloud?: Cloud;

  /** Set when the token enrolls into one cluster; null for a cloud-wide token. */
  @Column('uuid', { nullable: true })
  clusterId!: string | null;

  @ManyToOne(() => Cluster, { onDelete: 'CASCADE' })
  @JoinColumn()
  cluster?: Cluster | null;

  @Column('text')
  name!: string;

  @Column('text', { unique: true })
  tokenHash!: string;

  @Column('text')
  prefix!: string;

  @Column('timestamptz')
  expiresAt!: Date;

  @Column('int')
  maxUses!: number;

  @Column('int', { default: 0 })
  uses!: number;

  /** A node whose name is not in the cluster's spec may enroll and is added to it (scale-out, docs/scale-out.md). */
  @Column('boolean', { default: false })
  allowNewNodes!: boolean;

  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('uuid', { nullable: true })
  createdByTokenId!: string | null;

  @ManyToOne(() => ApiToken, { onDelete: 'SET NULL' })
  @JoinColumn()
  createdByToken?: ApiToken | null;
}
