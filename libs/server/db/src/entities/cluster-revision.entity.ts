import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { ApiToken } from './api-token.entity';
import { Cluster } from './cluster.entity';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** `{ [nodeName]: { [artifactName]: sha256 } }`, rendered with DEFAULT_HOST_PROFILE. */
export type ArtifactDigests = Record<string, Record<string, string>>;

/** One immutable, numbered version of a cluster's desired state. */
@Entity('cluster_revisions')
@Index(['clusterId', 'revision'], { unique: true })
@Index(['tenantId'])
export class ClusterRevision extends TenantOwnedEntity {
  @Column('uuid')
  clusterId!: string;

  @ManyToOne(() => Cluster, { onDelete: 'CASCADE' })
  @JoinColumn()
  cluster?: Cluster;

  @Column('int')
  revision!: number;

  /** The validated spec with defaults filled in (a ClusterSpec from @triad/spec). */
  @Column('jsonb')
  spec!: Record<string, unknown>;

  /** sha256 hex of the canonical spec JSON. */
  @Column('text')
  specHash!: string;

  @Column('jsonb', { default: () => "'{}'" })
  artifactDigests!: ArtifactDigests;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('uuid', { nullable: true })
  createdByTokenId!: string | null;

  @ManyToOne(() => ApiToken, { onDelete: 'SET NULL' })
  @JoinColumn()
  createdByToken?: ApiToken | null;
}
