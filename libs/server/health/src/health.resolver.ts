import { Inject } from '@nestjs/common';
import { Args, ID, Parent, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { ApiTokenService, CurrentPrincipal, type Principal } from '@triad/auth';
import { ClusterType } from '@triad/clusters';
import type { Cluster, ClusterHealth, Finding } from '@triad/db';
import { HealthEventSubscriber, type ClusterHealthEvent, type FindingEventView } from './health-events';
import { HealthService } from './health.service';
import { ClusterHealthChangeType, FindingType } from './health.types';

function findingOfEvent(f: FindingEventView): FindingType {
  return { ...f, firstSeenAt: new Date(f.firstSeenAt), lastSeenAt: new Date(f.lastSeenAt), resolvedAt: f.resolvedAt ? new Date(f.resolvedAt) : null };
}

function changeOfEvent(e: ClusterHealthEvent): ClusterHealthChangeType {
  return { clusterId: e.clusterId, health: e.health as ClusterHealth, healthChangedAt: e.healthChangedAt ? new Date(e.healthChangedAt) : null, findings: e.findings.map(findingOfEvent) };
}

@Resolver(() => ClusterType)
export class ClusterFindingsResolver {
  constructor(@Inject(HealthService) private readonly health: HealthService) {}

  @ResolveField(() => [FindingType], { description: 'Open findings (oldest first); with includeResolved also the newest 100 resolved ones.' })
  findings(
    @CurrentPrincipal() principal: Principal,
    @Parent() cluster: Cluster,
    @Args('includeResolved', { type: () => Boolean, defaultValue: false }) includeResolved: boolean,
  ): Promise<Finding[]> {
    return this.health.findings(principal.tenantId, cluster.id, includeResolved);
  }
}

@Resolver()
export class HealthSubscriptionResolver {
  constructor(
    @Inject(HealthService) private readonly health: HealthService,
    @Inject(HealthEventSubscriber) private readonly events: HealthEventSubscriber,
    @Inject(ApiTokenService) private readonly tokens: ApiTokenService,
  ) {}

  @Subscription(() => ClusterHealthChangeType, { description: "Every change of the cluster's health or open findings.", resolve: changeOfEvent })
  async clusterHealthChanged(@CurrentPrincipal() principal: Principal, @Args('clusterId', { type: () => ID }) clusterId: string): Promise<AsyncIterableIterator<ClusterHealthEvent>> {
    await this.health.assertCluster(principal.tenantId, clusterId);
    // The channel is the principal's tenant's: another tenant's events never reach this iterator.
    // It ends (UNAUTHENTICATED) within SUBSCRIPTION_RECHECK_MS of the token's revocation or expiry.
    return this.events.subscribe(principal.tenantId, clusterId, { authorize: this.tokens.subscriptionAuthorizer(principal) });
  }
}

export const HEALTH_RESOLVERS = [ClusterFindingsResolver, HealthSubscriptionResolver];
