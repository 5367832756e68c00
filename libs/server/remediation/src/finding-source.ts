import { Finding, TenantScopedRepository } from '@triad/db';
import { IsNull, type EntityManager } from 'typeorm';
import type { FindingView } from './upstream';

/** A cluster's open findings, read inside the caller's tenant transaction. */
export type FindingSource = (trx: EntityManager, tenantId: string, clusterId: string) => Promise<FindingView[]>;

/** Contract A's `findings` table (written by @triad/health). */
export function databaseFindings(): FindingSource {
  return async (trx, tenantId, clusterId) => {
    const rows = await new TenantScopedRepository(trx, Finding).find(tenantId, { clusterId, resolvedAt: IsNull() }, { firstSeenAt: 'ASC', key: 'ASC' });
    return rows.map((r) => ({
      key: r.key,
      code: r.code as FindingView['code'],
      severity: r.severity as FindingView['severity'],
      nodeName: r.nodeName,
      subject: r.subject,
      owner: r.owner as FindingView['owner'],
      detail: r.detail,
      firstSeenAt: r.firstSeenAt,
    }));
  };
}
