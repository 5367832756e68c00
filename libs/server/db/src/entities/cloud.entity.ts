import { Column, CreateDateColumn, Entity, Index } from 'typeorm';
import { TenantOwnedEntity } from './tenant-owned.entity';

@Entity('clouds')
@Index(['tenantId', 'name'], { unique: true })
@Index(['tenantId', 'createdAt'])
export class Cloud extends TenantOwnedEntity {
  @Column('text')
  name!: string;

  @Column('text', { default: '' })
  description!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
