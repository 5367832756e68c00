import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { Cloud } from './cloud.entity';
import { ClusterHealth } from './enums';
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

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
