import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { RemediationStepStatus } from './enums';
import { RemediationRun } from './remediation-run.entity';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** One step of a remediation run: a node action, a wait, or a decision, with its command and result. */
@Entity('remediation_steps')
@Index(['runId', 'seq'], { unique: true })
@Index(['tenantId'])
export class RemediationStep extends TenantOwnedEntity {
  @Column('uuid')
  runId!: string;

  @ManyToOne(() => RemediationRun, { onDelete: 'CASCADE' })
  @JoinColumn()
  run?: RemediationRun;

  @Column('int')
  seq!: number;

  @Column('text', { nullable: true })
  nodeName!: string | null;

  /** A node action (contract B), `apply_revision`, a `wait.*` or `galera.elect`. */
  @Column('text')
  action!: string;

  @Column('jsonb', { default: () => "'{}'" })
  args!: Record<string, unknown>;

  @Column({ type: 'enum', enum: RemediationStepStatus, enumName: 'remediation_step_status', default: RemediationStepStatus.PENDING })
  status!: RemediationStepStatus;

  @Column('uuid', { nullable: true })
  commandId!: string | null;

  @Column('jsonb', { nullable: true })
  result!: Record<string, unknown> | null;

  @Column('text', { nullable: true })
  message!: string | null;

  @Column('timestamptz', { nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  finishedAt!: Date | null;
}
