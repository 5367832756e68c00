import { Inject, Injectable } from '@nestjs/common';
import { auditActorOf, type Principal } from '@triad/auth';
import { Cloud, TenantScopedRepository, isUniqueViolation, recordAudit, type Page, type PageRequest, tenantTransaction } from '@triad/db';
import { DataSource } from 'typeorm';
import { ClusterException, ClusterExceptionCode, notFound } from './clusters.exception';
import { checkLabel, checkName } from './input-checks';

@Injectable()
export class CloudService {
  private readonly clouds: TenantScopedRepository<Cloud>;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {
    this.clouds = new TenantScopedRepository(dataSource.manager, Cloud);
  }

  async create(principal: Principal, input: { name: string; description?: string | null }): Promise<Cloud> {
    checkName('name', input.name);
    if (input.description) checkLabel('description', input.description, 2000);
    try {
      return await tenantTransaction(this.dataSource, principal.tenantId, async (trx) => {
        const cloud = await this.clouds.withManager(trx).insert(principal.tenantId, { name: input.name, description: input.description ?? '' });
        await recordAudit(trx, principal.tenantId, auditActorOf(principal), { action: 'cloud.created', targetType: 'cloud', targetId: cloud.id, detail: { name: cloud.name } });
        return cloud;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ClusterException(`a cloud named ${input.name} already exists`, ClusterExceptionCode.CLOUD_NAME_TAKEN, { field: 'name' });
      throw e;
    }
  }

  async get(principal: Principal, id: string, field = 'id'): Promise<Cloud> {
    const cloud = await this.clouds.findById(principal.tenantId, id);
    if (!cloud) throw notFound('cloud', id, field);
    return cloud;
  }

  list(principal: Principal, page: PageRequest): Promise<Page<Cloud>> {
    return this.clouds.paginate(principal.tenantId, page, { sortBy: 'createdAt', direction: 'ASC' });
  }
}
