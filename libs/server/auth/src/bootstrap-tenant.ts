import { ApiToken, ApiTokenRole, SYSTEM_ACTOR, Tenant, TenantScopedRepository, recordAudit } from '@triad/db';
import type { DataSource } from 'typeorm';
import { issueApiToken, type IssuedApiToken } from './api-token.service';
import { AuthException, AuthExceptionCode } from './auth.exception';

/** Slugs name tenants in URLs, logs and key prefixes. */
const SLUG = /^[a-z][a-z0-9-]{1,62}$/;

export interface BootstrapResult extends IssuedApiToken {
  tenant: Tenant;
  created: boolean;
}

/**
 * Creates a tenant and its first owner token. Refuses an existing slug unless `rotate` is set:
 * then it revokes the tenant's owner tokens and issues a new one (for a lost owner token).
 */
export async function bootstrapTenant(dataSource: DataSource, input: { name: string; slug: string; rotate?: boolean }): Promise<BootstrapResult> {
  if (!SLUG.test(input.slug)) throw new AuthException(`slug ${JSON.stringify(input.slug)} must match ${SLUG}`, AuthExceptionCode.INVALID_ARGUMENT, { field: 'slug' });
  if (input.name.trim() === '') throw new AuthException('name must not be blank', AuthExceptionCode.INVALID_ARGUMENT, { field: 'name' });
  return dataSource.transaction(async (trx) => {
    // Serialise concurrent bootstraps of one slug.
    await trx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`triad:bootstrap:${input.slug}`]);
    const tokens = new TenantScopedRepository(trx, ApiToken);
    let tenant = await trx.findOneBy(Tenant, { slug: input.slug });
    const created = !tenant;
    if (tenant && !input.rotate) {
      throw new AuthException(`tenant ${input.slug} already exists (use --rotate to revoke its owner tokens and issue a new one)`, AuthExceptionCode.TENANT_SLUG_TAKEN);
    }
    if (!tenant) {
      tenant = await trx.save(trx.create(Tenant, { name: input.name, slug: input.slug }));
    } else {
      await tokens.update(tenant.id, { role: ApiTokenRole.OWNER }, { revokedAt: new Date() });
    }
    const issued = await issueApiToken(tokens, tenant.id, { name: created ? 'bootstrap owner' : 'rotated owner', role: ApiTokenRole.OWNER });
    await recordAudit(trx, tenant.id, SYSTEM_ACTOR, {
      action: created ? 'tenant.bootstrapped' : 'tenant.owner_token_rotated',
      targetType: 'api_token',
      targetId: issued.token.id,
    });
    return { ...issued, tenant, created };
  });
}
