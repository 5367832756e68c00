import type { DataSource, EntityManager } from 'typeorm';
import { assertTenantId } from './tenant-scoped.repository';

/** The role row-level security policies apply to (see migrations/*-row-level-security.ts). */
export const APP_ROLE = 'triad_app';

/**
 * Runs `work` in a transaction that Postgres itself confines to one tenant: the session switches
 * to `triad_app` and sets `triad.tenant_id`, so even a query that forgot its tenant filter cannot
 * read or write another tenant's rows. Both settings end with the transaction.
 */
export async function tenantTransaction<T>(dataSource: DataSource, tenantId: string, work: (trx: EntityManager) => Promise<T>): Promise<T> {
  assertTenantId(tenantId);
  return dataSource.transaction(async (trx) => {
    // set_config(…, true) is SET LOCAL: both end with the transaction. One round trip.
    await trx.query(`SELECT set_config('triad.tenant_id', $1, true), set_config('role', $2, true)`, [tenantId, APP_ROLE]);
    return work(trx);
  });
}
