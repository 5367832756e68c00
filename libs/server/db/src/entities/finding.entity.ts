import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Cluster } from './cluster.entity';
import { Node } from './node.entity';
import { TenantOwnedEntity } from './tenant-owned.entity';

/**
 * Something wrong with a cluster, as the health monitor found it (contract A, docs/health.md):
 * opened when first seen, refreshed while it lasts, resolved when it is gone. At most one open
 * finding per key and cluster. Codes, severities, components and owners are the unions of @triad/health.
 */
@Entity('findings')
@Index(['clusterId', 'key'], { unique: true, where: '"resolved_at" IS NULL' })
@Index(['clusterId', 'firstSeenAt'])
@Index(['tenantId'])
export class Finding extends TenantOwnedEntity {
  @Column('uuid')
  clusterId!: string;

  @ManyToOne(() => Cluster, { onDelete: 'CASCADE' })
  @JoinColumn()
  cluster?: Cluster;

  @Column('uuid', { nullable: true })
  nodeId!: string | null;

  @ManyToOne(() => Node, { onDelete: 'SET NULL' })
  @JoinColumn()
  node?: Node | null;

  /** `${code}:${nodeName ?? '*'}:${subject ?? ''}` */
  @Column('text')
  key!: string;

  @Column('text')
  code!: string;

  @Column('text')
  severity!: string;

  @Column('text')
  component!: string;

  @Column('text', { nullable: true })
  nodeName!: string | null;

  @Column('text', { nullable: true })
  subject!: string | null;

  @Column('text')
  message!: string;

  @Column('text')
  owner!: string;

  @Column('text')
  action!: string;

  @Column('jsonb', { default: () => "'{}'" })
  detail!: Record<string, unknown>;

  @Column('timestamptz')
  firstSeenAt!: Date;

  @Column('timestamptz')
  lastSeenAt!: Date;

  @Column('timestamptz', { nullable: true })
  resolvedAt!: Date | null;
}
