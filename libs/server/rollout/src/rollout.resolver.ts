import { Inject } from '@nestjs/common';
import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { ApiTokenService, CurrentPrincipal, auditActorOf, type Principal } from '@triad/auth';
import { ClusterType } from '@triad/clusters';
import { Cluster, TenantScopedRepository, type Rollout, type RolloutStep } from '@triad/db';
import { PageArgs, toConnection, type Connection } from '@triad/server-core';
import { DataSource } from 'typeorm';
import { RolloutEventSubscriber, type RolloutProgressEvent } from './rollout-events';
import { RolloutException, RolloutExceptionCode } from './rollout.exception';
import { RolloutService } from './rollout.service';
import { RolloutConnection, RolloutProgressType, RolloutStepType, RolloutType } from './rollout.types';

const same = <T>(x: T) => x;

@Resolver(() => RolloutType)
export class RolloutResolver {
  constructor(
    @Inject(RolloutService) private readonly rollouts: RolloutService,
    @Inject(RolloutEventSubscriber) private readonly progress: RolloutEventSubscriber,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ApiTokenService) private readonly tokens: ApiTokenService,
  ) {}

  @Query(() => RolloutType)
  async rollout(@CurrentPrincipal() principal: Principal, @Args('id', { type: () => ID }) id: string): Promise<Rollout> {
    const r = await this.rollouts.findById(principal.tenantId, id);
    if (!r) throw new RolloutException(`rollout ${id} not found`, RolloutExceptionCode.ROLLOUT_NOT_FOUND, { field: 'id' });
    return r;
  }

  @ResolveField(() => [RolloutStepType], { description: 'In rollout order.' })
  steps(@CurrentPrincipal() principal: Principal, @Parent() rollout: Rollout): Promise<RolloutStep[]> {
    return this.rollouts.steps(principal.tenantId, rollout.id);
  }

  @Mutation(() => RolloutType, { description: "A new rollout of a FAILED or ROLLED_BACK rollout's revision (still the cluster's current one) to the nodes not on it yet." })
  retryRollout(@CurrentPrincipal() principal: Principal, @Args('id', { type: () => ID }) id: string): Promise<Rollout> {
    return this.rollouts.retry(principal.tenantId, id, auditActorOf(principal));
  }

  @Mutation(() => RolloutType, { description: 'Stops the rollout: no further node starts, the nodes being updated are rolled back, it ends ROLLED_BACK.' })
  abortRollout(@CurrentPrincipal() principal: Principal, @Args('id', { type: () => ID }) id: string): Promise<Rollout> {
    return this.rollouts.abort(principal.tenantId, id, auditActorOf(principal));
  }

  @Subscription(() => RolloutProgressType, { description: "Every change of the cluster's rollouts and their steps.", resolve: same })
  async rolloutProgress(@CurrentPrincipal() principal: Principal, @Args('clusterId', { type: () => ID }) clusterId: string): Promise<AsyncIterableIterator<RolloutProgressEvent>> {
    const cluster = await new TenantScopedRepository(this.dataSource.manager, Cluster).findById(principal.tenantId, clusterId);
    if (!cluster) throw new RolloutException(`cluster ${clusterId} not found`, RolloutExceptionCode.CLUSTER_NOT_FOUND, { field: 'clusterId' });
    // The channel is the principal's tenant's: another tenant's events never reach this iterator.
    // It ends (UNAUTHENTICATED) within SUBSCRIPTION_RECHECK_MS of the token's revocation or expiry.
    return this.progress.subscribe(principal.tenantId, clusterId, { authorize: this.tokens.subscriptionAuthorizer(principal) });
  }
}

@Resolver(() => ClusterType)
export class ClusterRolloutsResolver {
  constructor(@Inject(RolloutService) private readonly service: RolloutService) {}

  @ResolveField(() => RolloutConnection, { description: 'Newest first.' })
  async rollouts(@CurrentPrincipal() principal: Principal, @Parent() cluster: Cluster, @Args() page: PageArgs): Promise<Connection<Rollout>> {
    return toConnection(await this.service.list(principal.tenantId, cluster.id, page), same);
  }

  @ResolveField(() => RolloutType, { nullable: true, description: 'The PENDING or RUNNING rollout, if any (the newest).' })
  activeRollout(@CurrentPrincipal() principal: Principal, @Parent() cluster: Cluster): Promise<Rollout | null> {
    return this.service.active(principal.tenantId, cluster.id);
  }
}

export const ROLLOUT_RESOLVERS = [RolloutResolver, ClusterRolloutsResolver];
