import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import { TenantScopeError, assertTenantId } from './tenant-id';

/** The role row-level security policies apply to (see migrations/*-row-level-security.ts). */
export const APP_ROLE = 'triad_app';

const ambient = new AsyncLocalStorage<{ tenantId: string; manager: EntityManager }>();

/** The manager of the tenant transaction the caller runs in, if it is for `tenantId`. */
export function ambientTenantManager(tenantId: string): EntityManager | undefined {
  const current = ambient.getStore();
  return current && current.tenantId === tenantId ? current.manager : undefined;
}

/**
 * Runs `work` in a transaction that Postgres itself confines to one tenant: the session switches
 * to `triad_app` and sets `triad.tenant_id`, so even a query that forgot its tenant filter cannot
 * read or write another tenant's rows. Both settings end with the transaction.
 * Called inside a tenant transaction of the same tenant, `work` joins it (one connection, one
 * commit); `TenantScopedRepository` calls inside `work` use it too.
 */
export async function tenantTransaction<T>(
  dataSource: DataSource,
  tenantId: string,
  work: (trx: EntityManager) => Promise<T>,
  opts: { readOnly?: boolean } = {},
): Promise<T> {
  assertTenantId(tenantId);
  const current = ambient.getStore();
  if (current) {
    if (current.tenantId !== tenantId) throw new TenantScopeError(`a transaction of tenant ${current.tenantId} is open; refusing to start one for ${tenantId}`);
    return work(current.manager);
  }
  return dataSource.transaction(async (trx) => {
    // set_config(…, true) is SET LOCAL: every setting ends with the transaction. One round trip.
    await trx.query(`SELECT set_config('triad.tenant_id', $1, true), set_config('role', $2, true), set_config('transaction_read_only', $3, true)`, [
      tenantId,
      APP_ROLE,
      opts.readOnly ? 'on' : 'off',
    ]);
    return ambient.run({ tenantId, manager: trx }, () => work(trx));
  });
}
