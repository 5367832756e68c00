import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { bigintAsNumber } from './columns';
import { Cluster } from './cluster.entity';
import { CommandStatus } from './enums';
import { Node } from './node.entity';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** One signed instruction to one node's agent; its status follows the agent's reports. */
@Entity('commands')
@Index(['nodeId', 'status'])
@Index(['clusterId', 'issuedAt'])
@Index(['nodeId', 'issuedAt'])
@Index(['tenantId'])
export class Command extends TenantOwnedEntity {
  @Column('uuid')
  clusterId!: string;

  @ManyToOne(() => Cluster, { onDelete: 'CASCADE' })
  @JoinColumn()
  cluster?: Cluster;

  @Column('uuid')
  nodeId!: string;

  @ManyToOne(() => Node, { onDelete: 'CASCADE' })
  @JoinColumn()
  node?: Node;

  /** A verb of `commandVerbs` in @triad/protocol, e.g. `apply_revision`. */
  @Column('text')
  verb!: string;

  @Column('jsonb')
  params!: Record<string, unknown>;

  @Column('int', { nullable: true })
  revision!: number | null;

  /** Fencing generation (monotonic per node); the agent refuses a lower one than it has applied. */
  @Column('bigint', { transformer: bigintAsNumber })
  generation!: number;

  @Column({ type: 'enum', enum: CommandStatus, enumName: 'command_status', default: CommandStatus.PENDING })
  status!: CommandStatus;

  /** Machine-readable cause of FAILED/REFUSED/EXPIRED. */
  @Column('text', { nullable: true })
  reason!: string | null;

  @Column('text', { nullable: true })
  message!: string | null;

  /** run_action: what the agent reported the action found or did (`CommandUpdate.result_json`). */
  @Column('jsonb', { nullable: true })
  result!: Record<string, unknown> | null;

  @Column('timestamptz', { default: () => 'now()' })
  issuedAt!: Date;

  @Column('timestamptz')
  expiresAt!: Date;

  @Column('timestamptz', { nullable: true })
  deliveredAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  finishedAt!: Date | null;
}
