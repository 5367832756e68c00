import { Inject, Injectable } from '@nestjs/common';
import { auditActorOf, type Principal } from '@triad/auth';
import { Cluster, ClusterRevision, OUTBOX_REVISION_CREATED, Outbox, TenantScopedRepository, isUniqueViolation, recordAudit, type ArtifactDigests, type AuditActor, tenantTransaction } from '@triad/db';
import { DEFAULT_HOST_PROFILE, renderNode } from '@triad/render';
import { specNodeNames, validateClusterSpec, type ClusterSpec, type SpecProblem } from '@triad/spec';
import { DataSource, type EntityManager } from 'typeorm';
import { ClusterException, ClusterExceptionCode, notFound } from './clusters.exception';
import { specHash } from './spec-hash';


export interface SpecUpdate {
  cluster: Cluster;
  revision: ClusterRevision;
  /** Warning-severity problems: stored anyway, shown to the caller. */
  warnings: SpecProblem[];
}

/** Each revision's artifacts, rendered with the default host profile (what agents report back). */
export function artifactDigests(spec: ClusterSpec): ArtifactDigests {
  return Object.fromEntries(specNodeNames(spec).map((node) => [node, Object.fromEntries(renderNode(spec, node, DEFAULT_HOST_PROFILE).map((a) => [a.name, a.sha256]))]));
}

/** `spec.services[2].vip`: the argument name, then the spec's own path. */
function fieldOf(problem: SpecProblem): string {
  if (!problem.path) return 'spec';
  return problem.path.startsWith('[') ? `spec${problem.path}` : `spec.${problem.path}`;
}

/** The validated spec (defaults filled in) and its warnings; BAD_USER_INPUT listing every error. */
export function validSpecOrThrow(input: unknown): { spec: ClusterSpec; warnings: SpecProblem[] } {
  const { spec, problems } = validateClusterSpec(input);
  if (!spec) {
    const errors = problems.filter((p) => p.severity === 'error');
    const listed = errors.map((p) => ({ field: fieldOf(p), code: p.code, message: p.message }));
    throw new ClusterException(`the spec has ${errors.length} problem(s): ${listed.map((p) => `${p.field}: ${p.message}`).join('; ')}`, ClusterExceptionCode.INVALID_SPEC, {
      field: listed[0]?.field ?? 'spec',
      problems: listed,
    });
  }
  return { spec, warnings: problems.filter((p) => p.severity === 'warning') };
}

@Injectable()
export class ClusterSpecService {
  private readonly clusters: TenantScopedRepository<Cluster>;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {
    this.clusters = new TenantScopedRepository(dataSource.manager, Cluster);
  }

  /**
   * Stores `input` as the cluster's next revision if it is valid and `expectedRevision` is the
   * current one. Revision, cluster pointer, outbox row and audit event commit together; the
   * pointer moves only if it still holds `expectedRevision`, so of two concurrent updates one wins
   * and the other gets CONFLICT.
   */
  async update(principal: Principal, clusterId: string, input: unknown, expectedRevision: number, maxUnavailable = 1): Promise<SpecUpdate> {
    if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1 || maxUnavailable > 100) {
      throw new ClusterException('maxUnavailable must be between 1 and 100', ClusterExceptionCode.INVALID_ARGUMENT, { field: 'maxUnavailable' });
    }
    const cluster = await this.clusters.findById(principal.tenantId, clusterId);
    if (!cluster) throw notFound('cluster', clusterId, 'clusterId');

    const { spec, warnings } = validSpecOrThrow(input);
    if (cluster.currentRevision !== expectedRevision) throw stale(expectedRevision, cluster.currentRevision);

    try {
      return await tenantTransaction(this.dataSource, principal.tenantId, async (trx) => {
        const stored = await storeRevision(trx, principal.tenantId, {
          clusterId,
          spec,
          expectedRevision,
          maxUnavailable,
          createdByTokenId: principal.tokenId,
          actor: auditActorOf(principal),
          audit: { action: 'cluster.spec.updated' },
        });
        return { ...stored, warnings };
      });
    } catch (e) {
      // Backstop: the (cluster_id, revision) unique index also refuses a second revision N.
      if (isUniqueViolation(e)) throw stale(expectedRevision, expectedRevision + 1);
      throw e;
    }
  }
}

/**
 * Inside the caller's transaction: the validated `spec` as revision `expectedRevision + 1` with
 * its artifact digests, the cluster pointer moved (only if it still holds `expectedRevision`,
 * else STALE_REVISION), the `cluster.revision.created` outbox row that starts its rollout, and an
 * audit event. updateClusterSpec and scale-out enrollment both store revisions through this.
 */
export async function storeRevision(
  trx: EntityManager,
  tenantId: string,
  input: {
    clusterId: string;
    spec: ClusterSpec;
    expectedRevision: number;
    maxUnavailable: number;
    createdByTokenId: string | null;
    actor: AuditActor;
    audit: { action: string; detail?: Record<string, unknown> };
  },
): Promise<{ cluster: Cluster; revision: ClusterRevision }> {
  const { clusterId, spec, expectedRevision, maxUnavailable } = input;
  const clusters = new TenantScopedRepository(trx, Cluster);
  const next = expectedRevision + 1;
  const moved = await clusters.update(tenantId, { id: clusterId, currentRevision: expectedRevision }, { currentRevision: next });
  if (moved === 0) {
    const now = await clusters.findById(tenantId, clusterId);
    if (!now) throw notFound('cluster', clusterId, 'clusterId');
    throw stale(expectedRevision, now.currentRevision);
  }
  const revision = await new TenantScopedRepository(trx, ClusterRevision).insert(tenantId, {
    clusterId,
    revision: next,
    spec: spec as unknown as Record<string, unknown>,
    specHash: specHash(spec),
    artifactDigests: artifactDigests(spec),
    createdByTokenId: input.createdByTokenId,
  });
  await new TenantScopedRepository(trx, Outbox).insert(tenantId, { kind: OUTBOX_REVISION_CREATED, aggregateId: clusterId, payload: { clusterId, revision: next, maxUnavailable } });
  await recordAudit(trx, tenantId, input.actor, {
    action: input.audit.action,
    targetType: 'cluster',
    targetId: clusterId,
    detail: { revision: next, specHash: revision.specHash, ...input.audit.detail },
  });
  const cluster = (await clusters.findById(tenantId, clusterId)) as Cluster;
  return { cluster, revision };
}

function stale(expected: number, current: number): ClusterException {
  return new ClusterException(`expectedRevision ${expected} is stale: the cluster is at revision ${current}; re-read it and retry`, ClusterExceptionCode.STALE_REVISION, {
    field: 'expectedRevision',
    currentRevision: current,
  });
}
