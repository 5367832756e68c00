/** A programming error: a query without a tenant would read or write every tenant's rows. */
export class TenantScopeError extends Error {}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function assertTenantId(tenantId: unknown): asserts tenantId is string {
  if (typeof tenantId !== 'string' || !UUID_RE.test(tenantId)) {
    throw new TenantScopeError(`tenant id is required for a tenant-scoped query (got ${JSON.stringify(tenantId)})`);
  }
}
