import type { EntityManager } from 'typeorm';
import type { FindingView } from './upstream';

/** A cluster's open findings, read inside the caller's tenant transaction. */
export type FindingSource = (trx: EntityManager, tenantId: string, clusterId: string) => Promise<FindingView[]>;

interface FindingRow {
  key: string;
  code: FindingView['code'];
  severity: FindingView['severity'];
  node_name: string | null;
  subject: string | null;
  owner: FindingView['owner'];
  detail: Record<string, unknown> | null;
  first_seen_at: Date;
}

/**
 * Contract A's `findings` table (HEALTH owns it). Read with SQL so this library does not depend on
 * the entity before it lands; until the table exists there are no findings (and so no runs).
 */
export function databaseFindings(): FindingSource {
  let tableSeen = false;
  return async (trx, tenantId, clusterId) => {
    if (!tableSeen) {
      const [row] = (await trx.query(`SELECT to_regclass('public.findings') IS NOT NULL AS present`)) as Array<{ present: boolean }>;
      if (!row?.present) return [];
      tableSeen = true;
    }
    const rows = (await trx.query(
      `SELECT key, code, severity, node_name, subject, owner, detail, first_seen_at
         FROM findings WHERE tenant_id = $1 AND cluster_id = $2 AND resolved_at IS NULL
        ORDER BY first_seen_at, key`,
      [tenantId, clusterId],
    )) as FindingRow[];
    return rows.map((r) => ({ key: r.key, code: r.code, severity: r.severity, nodeName: r.node_name, subject: r.subject, owner: r.owner, detail: r.detail ?? {}, firstSeenAt: new Date(r.first_seen_at) }));
  };
}
