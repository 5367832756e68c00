import { Column, CreateDateColumn, Entity, Index } from 'typeorm';
import { ApiTokenRole } from './enums';
import { TenantOwnedEntity } from './tenant-owned.entity';

@Entity('api_tokens')
@Index(['tenantId', 'createdAt'])
export class ApiToken extends TenantOwnedEntity {
  @Column('text')
  name!: string;

  @Column({ type: 'enum', enum: ApiTokenRole, enumName: 'api_token_role' })
  role!: ApiTokenRole;

  /** sha256 hex of the whole secret; the secret itself is shown once and never stored. */
  @Column('text', { unique: true })
  tokenHash!: string;

  /** First characters of the secret, to recognise a token in listings. */
  @Column('text')
  prefix!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { nullable: true })
  lastUsedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  expiresAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;
}
