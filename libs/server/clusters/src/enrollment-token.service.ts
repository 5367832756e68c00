import { Inject, Injectable } from '@nestjs/common';
import { commandKeyFingerprint, privateKeyFromPem } from '@triad/protocol';
import { SERVER_CONFIG, readConfigFile, type ServerConfig } from '@triad/server-core';
import { auditActorOf, type Principal } from '@triad/auth';
import { EnrollmentToken, TenantScopedRepository, issueSecret, recordAudit, type Page, type PageRequest, tenantTransaction } from '@triad/db';
import { DataSource } from 'typeorm';
import { ClusterService } from './cluster.service';
import { notFound } from './clusters.exception';
import { checkLabel, checkRange } from './input-checks';

export const ENROLLMENT_TTL_SECONDS = { min: 60, max: 30 * 24 * 3600 };
export const ENROLLMENT_MAX_USES = { min: 1, max: 1000 };

export interface IssuedEnrollmentToken {
  token: EnrollmentToken;
  /** `triad_enr_…`: returned once; only its sha256 is stored. */
  secret: string;
  /** sha256 of the command-signing key, for the agent to pin (TRIAD_COMMAND_KEY_SHA256). */
  commandKeySha256: string;
}

/** Issues and revokes enrollment tokens; @triad/enrollment consumes them. */
@Injectable()
export class EnrollmentTokenService {
  private readonly tokens: TenantScopedRepository<EnrollmentToken>;

  private readonly commandKeySha256: string;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ClusterService) private readonly clusters: ClusterService,
    @Inject(SERVER_CONFIG) config: ServerConfig,
  ) {
    this.tokens = new TenantScopedRepository(dataSource.manager, EnrollmentToken);
    this.commandKeySha256 = commandKeyFingerprint(privateKeyFromPem(readConfigFile('COMMAND_SIGNING_KEY_FILE', config.COMMAND_SIGNING_KEY_FILE)));
  }

  async create(principal: Principal, input: { clusterId: string; name: string; ttlSeconds: number; maxUses: number; allowNewNodes?: boolean }): Promise<IssuedEnrollmentToken> {
    checkLabel('name', input.name);
    checkRange('ttlSeconds', input.ttlSeconds, ENROLLMENT_TTL_SECONDS);
    checkRange('maxUses', input.maxUses, ENROLLMENT_MAX_USES);
    const cluster = await this.clusters.get(principal, input.clusterId, 'clusterId');
    const { secret, hash, prefix } = issueSecret('enr');
    const token = await tenantTransaction(this.dataSource, principal.tenantId, async (trx) => {
      const created = await this.tokens.withManager(trx).insert(principal.tenantId, {
        cloudId: cluster.cloudId,
        clusterId: cluster.id,
        name: input.name,
        tokenHash: hash,
        prefix,
        expiresAt: new Date(Date.now() + input.ttlSeconds * 1000),
        maxUses: input.maxUses,
        allowNewNodes: input.allowNewNodes ?? false,
        createdByTokenId: principal.tokenId,
      });
      await recordAudit(trx, principal.tenantId, auditActorOf(principal), {
        action: 'enrollment_token.created',
        targetType: 'enrollment_token',
        targetId: created.id,
        detail: { clusterId: cluster.id, name: input.name, ttlSeconds: input.ttlSeconds, maxUses: input.maxUses, allowNewNodes: input.allowNewNodes ?? false },
      });
      return created;
    });
    return { token, secret, commandKeySha256: this.commandKeySha256 };
  }

  async revoke(principal: Principal, id: string): Promise<EnrollmentToken> {
    return tenantTransaction(this.dataSource, principal.tenantId, async (trx) => {
      const tokens = this.tokens.withManager(trx);
      const token = await tokens.findById(principal.tenantId, id);
      if (!token) throw notFound('enrollment token', id, 'id');
      if (!token.revokedAt) {
        token.revokedAt = new Date();
        await tokens.update(principal.tenantId, { id }, { revokedAt: token.revokedAt });
        await recordAudit(trx, principal.tenantId, auditActorOf(principal), { action: 'enrollment_token.revoked', targetType: 'enrollment_token', targetId: id });
      }
      return token;
    });
  }

  async listForCluster(principal: Principal, clusterId: string, page: PageRequest): Promise<Page<EnrollmentToken>> {
    await this.clusters.get(principal, clusterId, 'clusterId');
    return this.tokens.paginate(principal.tenantId, page, { where: { clusterId }, sortBy: 'createdAt', direction: 'DESC' });
  }
}
