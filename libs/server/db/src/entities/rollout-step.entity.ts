import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Node } from './node.entity';
import { RolloutStepStatus } from './enums';
import { Rollout } from './rollout.entity';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** One node's part of a rollout. */
@Entity('rollout_steps')
@Index(['rolloutId', 'order'], { unique: true })
@Index(['tenantId'])
export class RolloutStep extends TenantOwnedEntity {
  @Column('uuid')
  rolloutId!: string;

  @ManyToOne(() => Rollout, { onDelete: 'CASCADE' })
  @JoinColumn()
  rollout?: Rollout;

  @Column('uuid')
  nodeId!: string;

  @ManyToOne(() => Node, { onDelete: 'CASCADE' })
  @JoinColumn()
  node?: Node;

  @Column('text')
  nodeName!: string;

  @Column('int')
  order!: number;

  @Column({ type: 'enum', enum: RolloutStepStatus, enumName: 'rollout_step_status', default: RolloutStepStatus.PENDING })
  status!: RolloutStepStatus;

  /** The revision the node had applied when its step started: what a rollback returns it to (0: none). */
  @Column('int', { nullable: true })
  previousRevision!: number | null;

  /** Health problems the node already reported when its step started: the gate does not hold them against it. */
  @Column('jsonb', { nullable: true })
  healthBaseline!: string[] | null;

  @Column('uuid', { nullable: true })
  commandId!: string | null;

  @Column('uuid', { nullable: true })
  rollbackCommandId!: string | null;

  @Column('text', { nullable: true })
  reason!: string | null;

  @Column('timestamptz', { nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  finishedAt!: Date | null;
}
