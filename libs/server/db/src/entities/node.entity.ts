import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { bigintAsNumber } from './columns';
import { Cluster } from './cluster.entity';
import { EnrollmentToken } from './enrollment-token.entity';
import { NodeStatus } from './enums';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** A controller node of a cluster and its agent's identity. */
@Entity('nodes')
@Index(['clusterId', 'name'], { unique: true })
@Index(['tenantId', 'status'])
export class Node extends TenantOwnedEntity {
  @Column('uuid')
  clusterId!: string;

  @ManyToOne(() => Cluster, { onDelete: 'CASCADE' })
  @JoinColumn()
  cluster?: Cluster;

  @Column('text')
  name!: string;

  @Column({ type: 'enum', enum: NodeStatus, enumName: 'node_status', default: NodeStatus.PENDING })
  status!: NodeStatus;

  @Column('timestamptz', { default: () => 'now()' })
  statusChangedAt!: Date;

  /** The agent's ed25519 public key (SPKI PEM), set at enrollment. */
  @Column('text', { nullable: true })
  publicKeyPem!: string | null;

  @Column('text', { nullable: true })
  natsUserPublicKey!: string | null;

  @Column('jsonb', { default: () => "'{}'" })
  facts!: Record<string, unknown>;

  @Column('text', { nullable: true })
  agentVersion!: string | null;

  @Column('int', { default: 0 })
  appliedRevision!: number;

  /** `{ [artifactName]: sha256 }` the agent reports as applied (default-profile digests). */
  @Column('jsonb', { default: () => "'{}'" })
  appliedArtifacts!: Record<string, string>;

  /** Latest component health snapshot from a heartbeat. */
  @Column('jsonb', { nullable: true })
  health!: Record<string, unknown> | null;

  @Column('timestamptz', { nullable: true })
  lastHeartbeatAt!: Date | null;

  /** Fencing generation of the newest command issued to this node; only ever increases. */
  @Column('bigint', { default: 0, transformer: bigintAsNumber })
  commandGeneration!: number;

  @Column('timestamptz', { nullable: true })
  enrolledAt!: Date | null;

  @Column('uuid', { nullable: true })
  enrollmentTokenId!: string | null;

  @ManyToOne(() => EnrollmentToken, { onDelete: 'SET NULL' })
  @JoinColumn()
  enrollmentToken?: EnrollmentToken | null;
}
