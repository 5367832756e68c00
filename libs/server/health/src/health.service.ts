import { Cluster, Finding, TenantScopedRepository } from '@triad/db';
import type { DataSource } from 'typeorm';
import { IsNull } from 'typeorm';
import { HealthException, HealthExceptionCode } from './health.exception';

/** Resolved findings a query returns at most (newest first, after every open one). */
export const RESOLVED_FINDINGS_LIMIT = 100;

/** Reads of findings for the API; the HealthMonitor writes them. */
export class HealthService {
  constructor(private readonly dataSource: DataSource) {}

  /** Open findings (oldest first), then with `includeResolved` the newest resolved ones. */
  async findings(tenantId: string, clusterId: string, includeResolved = false): Promise<Finding[]> {
    const repo = new TenantScopedRepository(this.dataSource.manager, Finding);
    const open = await repo.find(tenantId, { clusterId, resolvedAt: IsNull() }, { firstSeenAt: 'ASC', key: 'ASC' });
    if (!includeResolved) return open;
    const resolved = await repo
      .queryBuilder(tenantId, 'f')
      .andWhere('f.clusterId = :clusterId AND f.resolvedAt IS NOT NULL', { clusterId })
      .orderBy('f.resolvedAt', 'DESC')
      .limit(RESOLVED_FINDINGS_LIMIT)
      .getMany();
    return [...open, ...resolved];
  }

  /** Refuses a cluster of another tenant (or none) with NOT_FOUND on `clusterId`. */
  async assertCluster(tenantId: string, clusterId: string): Promise<Cluster> {
    const cluster = await new TenantScopedRepository(this.dataSource.manager, Cluster).findById(tenantId, clusterId);
    if (!cluster) throw new HealthException(`cluster ${clusterId} not found`, HealthExceptionCode.CLUSTER_NOT_FOUND, { field: 'clusterId' });
    return cluster;
  }
}
