import { Inject } from '@nestjs/common';
import { Args, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, auditActorOf, type Principal } from '@triad/auth';
import { ClusterType } from '@triad/clusters';
import { RemediationPolicy, type AuditEvent, type Cluster, type RemediationRun, type RemediationStep } from '@triad/db';
import { PageArgs, toConnection, type Connection } from '@triad/server-core';
import { RemediationException, RemediationExceptionCode } from './remediation.exception';
import { FREEZE_ACTIONS, RemediationService } from './remediation.service';
import { ClusterMaintenanceType, RemediationFreezeType, RemediationRunConnection, RemediationRunType, RemediationStepType } from './remediation.types';

const same = <T>(x: T) => x;

@Resolver(() => RemediationRunType)
export class RemediationResolver {
  constructor(@Inject(RemediationService) private readonly remediation: RemediationService) {}

  @Query(() => RemediationRunType)
  async remediationRun(@CurrentPrincipal() principal: Principal, @Args('id', { type: () => ID }) id: string): Promise<RemediationRun> {
    const run = await this.remediation.findRun(principal.tenantId, id);
    if (!run) throw new RemediationException(`remediation run ${id} not found`, RemediationExceptionCode.RUN_NOT_FOUND, { field: 'id' });
    return run;
  }

  @Query(() => [RemediationFreezeType], { description: "The tenant's mass-failure freezes and thaws, newest first." })
  async remediationFreezes(@CurrentPrincipal() principal: Principal, @Args('first', { type: () => Int, defaultValue: 20 }) first: number): Promise<RemediationFreezeType[]> {
    if (!Number.isInteger(first) || first < 1 || first > 100) throw new RemediationException('first must be from 1 to 100', RemediationExceptionCode.INVALID_ARGUMENT, { field: 'first' });
    return (await this.remediation.freezes(principal.tenantId, first)).map(freezeOf);
  }

  @ResolveField(() => [RemediationStepType], { description: 'In order.' })
  steps(@CurrentPrincipal() principal: Principal, @Parent() run: RemediationRun): Promise<RemediationStep[]> {
    return this.remediation.steps(principal.tenantId, run.id);
  }

  @Mutation(() => RemediationRunType, { description: 'Lets a run AWAITING_APPROVAL go on: the run itself, or a Galera bootstrap on partial data (audited).' })
  approveRemediation(@CurrentPrincipal() principal: Principal, @Args('runId', { type: () => ID }) runId: string): Promise<RemediationRun> {
    return this.remediation.approve(principal.tenantId, runId, auditActorOf(principal));
  }

  @Mutation(() => RemediationRunType, { description: 'Ends a run AWAITING_APPROVAL as REJECTED (resources it took from Pacemaker are given back first).' })
  rejectRemediation(@CurrentPrincipal() principal: Principal, @Args('runId', { type: () => ID }) runId: string, @Args('reason') reason: string): Promise<RemediationRun> {
    return this.remediation.reject(principal.tenantId, runId, reason, auditActorOf(principal));
  }

  @Mutation(() => ClusterType)
  setRemediationPolicy(
    @CurrentPrincipal() principal: Principal,
    @Args('clusterId', { type: () => ID }) clusterId: string,
    @Args('policy', { type: () => RemediationPolicy }) policy: RemediationPolicy,
  ): Promise<Cluster> {
    return this.remediation.setPolicy(principal.tenantId, clusterId, policy, auditActorOf(principal));
  }

  @Mutation(() => ClusterType, { description: 'Maintenance on (a reason is required) suppresses remediation runs and findings-driven alerts; runs not started yet are cancelled.' })
  setMaintenance(
    @CurrentPrincipal() principal: Principal,
    @Args('clusterId', { type: () => ID }) clusterId: string,
    @Args('enabled') enabled: boolean,
    @Args('reason', { type: () => String, nullable: true }) reason?: string | null,
  ): Promise<Cluster> {
    return this.remediation.setMaintenance(principal.tenantId, clusterId, enabled, reason, auditActorOf(principal));
  }
}

@Resolver(() => ClusterType)
export class ClusterRemediationResolver {
  constructor(@Inject(RemediationService) private readonly remediation: RemediationService) {}

  @ResolveField(() => RemediationPolicy)
  remediationPolicy(@Parent() cluster: Cluster): RemediationPolicy {
    return cluster.remediationPolicy;
  }

  @ResolveField(() => ClusterMaintenanceType)
  maintenance(@Parent() cluster: Cluster): ClusterMaintenanceType {
    return { enabled: cluster.maintenance, reason: cluster.maintenanceReason, setBy: cluster.maintenanceSetBy, since: cluster.maintenanceSince };
  }

  @ResolveField(() => RemediationRunConnection, { description: 'Newest first.' })
  async remediationRuns(@CurrentPrincipal() principal: Principal, @Parent() cluster: Cluster, @Args() page: PageArgs): Promise<Connection<RemediationRun>> {
    return toConnection(await this.remediation.listRuns(principal.tenantId, cluster.id, page), same);
  }
}

function freezeOf(e: AuditEvent): RemediationFreezeType {
  const detail = e.detail as { scope?: string; reason?: string };
  return { id: e.id, event: e.action === FREEZE_ACTIONS.frozen ? 'FROZEN' : 'THAWED', scope: detail.scope ?? 'TENANT', reason: detail.reason ?? '', at: e.createdAt };
}

export const REMEDIATION_RESOLVERS = [RemediationResolver, ClusterRemediationResolver];
