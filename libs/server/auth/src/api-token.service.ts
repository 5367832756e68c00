import { Inject, Injectable } from '@nestjs/common';
import { ApiToken, ApiTokenRole, TenantScopedRepository, hashSecret, issueSecret, looksLikeSecret, recordAudit, type Page, type PageRequest, tenantTransaction } from '@triad/db';
import { toGraphqlError, type SubscriptionAuthorizer } from '@triad/server-core';
import { DataSource, IsNull } from 'typeorm';
import { AuthException, AuthExceptionCode } from './auth.exception';
import { auditActorOf, type Principal } from './principal';
import { roleAtLeast } from './roles';

/** lastUsedAt is a hint for humans; writing it more often than this would cost a write per request. */
const LAST_USED_GRANULARITY_MS = 5 * 60_000;

export interface IssuedApiToken {
  token: ApiToken;
  /** `triad_pat_…`: returned once, never stored. */
  secret: string;
}

/** A token found among the unrevoked ones that has not expired at `now`. */
function usable(token: ApiToken | null, now: number): token is ApiToken {
  return !!token && !(token.expiresAt && token.expiresAt.getTime() <= now);
}

@Injectable()
export class ApiTokenService {
  private readonly tokens: TenantScopedRepository<ApiToken>;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {
    this.tokens = new TenantScopedRepository(dataSource.manager, ApiToken);
  }

  /**
   * Resolves a bearer secret to its principal, or throws UNAUTHENTICATED. This lookup is by hash
   * across tenants on purpose: the token is what tells us the tenant.
   */
  async authenticate(secret: string | undefined): Promise<Principal> {
    if (!secret) throw new AuthException('an API token is required (Authorization: Bearer triad_pat_…)', AuthExceptionCode.MISSING_TOKEN);
    const invalid = () => new AuthException('invalid, expired or revoked API token', AuthExceptionCode.INVALID_TOKEN);
    if (!looksLikeSecret('pat', secret)) throw invalid();
    const token = await this.dataSource.getRepository(ApiToken).findOneBy({ tokenHash: hashSecret(secret), revokedAt: IsNull() });
    const now = Date.now();
    if (!usable(token, now)) throw invalid();
    if (!token.lastUsedAt || now - token.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) {
      await this.tokens.update(token.tenantId, { id: token.id }, { lastUsedAt: new Date(now) });
    }
    return { tenantId: token.tenantId, tokenId: token.id, role: token.role };
  }

  /**
   * Throws INVALID_TOKEN when the principal's token was revoked or has expired since it
   * authenticated: long-lived subscriptions re-check with this and end.
   */
  async assertActive(principal: Principal): Promise<void> {
    const token = await this.dataSource.getRepository(ApiToken).findOneBy({ id: principal.tokenId, tenantId: principal.tenantId, revokedAt: IsNull() });
    if (!usable(token, Date.now())) {
      throw new AuthException('the API token was revoked or has expired: subscription ended', AuthExceptionCode.INVALID_TOKEN);
    }
  }

  /** For TenantEventSubscriber.subscribe: ends the subscription with an UNAUTHENTICATED GraphQL error once the token is no longer valid. */
  subscriptionAuthorizer(principal: Principal): SubscriptionAuthorizer {
    return async () => {
      try {
        await this.assertActive(principal);
      } catch (e) {
        throw toGraphqlError(e);
      }
    };
  }

  async create(principal: Principal, input: { name: string; role: ApiTokenRole; expiresAt?: Date | null }): Promise<IssuedApiToken> {
    if (input.name.trim() === '' || input.name.length > 200) {
      throw new AuthException('name must be 1 to 200 characters and not blank', AuthExceptionCode.INVALID_ARGUMENT, { field: 'name' });
    }
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw new AuthException('expiresAt must be in the future', AuthExceptionCode.INVALID_ARGUMENT, { field: 'expiresAt' });
    }
    if (!roleAtLeast(principal.role, input.role)) {
      throw new AuthException(`a ${principal.role} token cannot create a ${input.role} token`, AuthExceptionCode.ROLE_ABOVE_OWN, { field: 'role' });
    }
    return tenantTransaction(this.dataSource, principal.tenantId, async (trx) => {
      const issued = await issueApiToken(this.tokens.withManager(trx), principal.tenantId, input);
      await recordAudit(trx, principal.tenantId, auditActorOf(principal), {
        action: 'api_token.created',
        targetType: 'api_token',
        targetId: issued.token.id,
        detail: { name: input.name, role: input.role },
      });
      return issued;
    });
  }

  async revoke(principal: Principal, id: string): Promise<ApiToken> {
    return tenantTransaction(this.dataSource, principal.tenantId, async (trx) => {
      const tokens = this.tokens.withManager(trx);
      const token = await tokens.findById(principal.tenantId, id);
      if (!token) throw new AuthException(`API token ${id} not found`, AuthExceptionCode.API_TOKEN_NOT_FOUND, { field: 'id' });
      if (!roleAtLeast(principal.role, token.role)) {
        throw new AuthException(`a ${principal.role} token cannot revoke a ${token.role} token`, AuthExceptionCode.ROLE_ABOVE_OWN);
      }
      if (!token.revokedAt) {
        token.revokedAt = new Date();
        await tokens.update(principal.tenantId, { id }, { revokedAt: token.revokedAt });
        await recordAudit(trx, principal.tenantId, auditActorOf(principal), { action: 'api_token.revoked', targetType: 'api_token', targetId: id });
      }
      return token;
    });
  }

  list(principal: Principal, page: PageRequest): Promise<Page<ApiToken>> {
    return this.tokens.paginate(principal.tenantId, page, { sortBy: 'createdAt', direction: 'ASC' });
  }
}

/** Inserts a new token row and returns it with its secret (shown once). */
export async function issueApiToken(
  tokens: TenantScopedRepository<ApiToken>,
  tenantId: string,
  input: { name: string; role: ApiTokenRole; expiresAt?: Date | null },
): Promise<IssuedApiToken> {
  const { secret, hash, prefix } = issueSecret('pat');
  const token = await tokens.insert(tenantId, { name: input.name, role: input.role, tokenHash: hash, prefix, expiresAt: input.expiresAt ?? null });
  return { token, secret };
}
