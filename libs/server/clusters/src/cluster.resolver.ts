import { Inject } from '@nestjs/common';
import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, Roles, type Principal } from '@triad/auth';
import { ApiTokenRole, type Cluster, type ClusterRevision, type EnrollmentToken, type Node } from '@triad/db';
import { GraphQLJSON, PageArgs, toConnection, type Connection } from '@triad/server-core';
import { ClusterPlanService, type ClusterPlan } from './cluster-plan.service';
import { ClusterSpecService, type SpecUpdate } from './cluster-spec.service';
import { ClusterService } from './cluster.service';
import { ClusterConnection, ClusterPlanType, ClusterRevisionConnection, ClusterRevisionType, ClusterType, CreateClusterArgs, EnrollmentTokenConnection, NodeConnection, UpdateClusterSpecArgs, UpdateClusterSpecPayload } from './clusters.types';
import { EnrollmentTokenService } from './enrollment-token.service';

const same = <T>(x: T) => x;

@Resolver(() => ClusterType)
export class ClusterResolver {
  constructor(
    @Inject(ClusterService) private readonly clusterService: ClusterService,
    @Inject(ClusterSpecService) private readonly specService: ClusterSpecService,
    @Inject(EnrollmentTokenService) private readonly enrollmentTokenService: EnrollmentTokenService,
    @Inject(ClusterPlanService) private readonly planService: ClusterPlanService,
  ) {}

  @Query(() => ClusterConnection)
  async clusters(@CurrentPrincipal() principal: Principal, @Args('cloudId', { type: () => ID }) cloudId: string, @Args() page: PageArgs): Promise<Connection<Cluster>> {
    return toConnection(await this.clusterService.listInCloud(principal, cloudId, page), same);
  }

  @Query(() => ClusterType)
  cluster(@CurrentPrincipal() principal: Principal, @Args('id', { type: () => ID }) id: string): Promise<Cluster> {
    return this.clusterService.get(principal, id);
  }

  @Mutation(() => ClusterType)
  @Roles(ApiTokenRole.ADMIN)
  createCluster(@CurrentPrincipal() principal: Principal, @Args() args: CreateClusterArgs): Promise<Cluster> {
    return this.clusterService.create(principal, args);
  }

  @Mutation(() => UpdateClusterSpecPayload)
  @Roles(ApiTokenRole.OPERATOR)
  updateClusterSpec(@CurrentPrincipal() principal: Principal, @Args() args: UpdateClusterSpecArgs): Promise<SpecUpdate> {
    return this.specService.update(principal, args.clusterId, args.spec, args.expectedRevision, args.maxUnavailable);
  }

  @Query(() => ClusterPlanType, { description: 'What applying this spec would change on each node, file by file, against what it reports as applied. Changes nothing.' })
  planCluster(@CurrentPrincipal() principal: Principal, @Args('clusterId', { type: () => ID }) clusterId: string, @Args('spec', { type: () => GraphQLJSON }) spec: unknown): Promise<ClusterPlan> {
    return this.planService.plan(principal, clusterId, spec);
  }

  @ResolveField(() => GraphQLJSON, { nullable: true, description: 'The current desired spec; null before the first one.' })
  async spec(@CurrentPrincipal() principal: Principal, @Parent() cluster: Cluster): Promise<unknown> {
    return (await this.clusterService.currentRevision(principal, cluster))?.spec ?? null;
  }

  @ResolveField(() => ClusterRevisionType, { nullable: true, description: 'The current desired revision; null before the first spec.' })
  latestRevision(@CurrentPrincipal() principal: Principal, @Parent() cluster: Cluster): Promise<ClusterRevision | null> {
    return this.clusterService.currentRevision(principal, cluster);
  }

  @ResolveField(() => ClusterRevisionConnection, { description: 'Newest first.' })
  async revisions(@CurrentPrincipal() principal: Principal, @Parent() cluster: Cluster, @Args() page: PageArgs): Promise<Connection<ClusterRevision>> {
    return toConnection(await this.clusterService.listRevisions(principal, cluster.id, page), same);
  }

  @ResolveField(() => NodeConnection)
  async nodes(@CurrentPrincipal() principal: Principal, @Parent() cluster: Cluster, @Args() page: PageArgs): Promise<Connection<Node>> {
    return toConnection(await this.clusterService.listNodes(principal, cluster.id, page), same);
  }

  @ResolveField(() => EnrollmentTokenConnection, { description: 'Newest first; secrets are never shown again.' })
  @Roles(ApiTokenRole.ADMIN)
  async enrollmentTokens(@CurrentPrincipal() principal: Principal, @Parent() cluster: Cluster, @Args() page: PageArgs): Promise<Connection<EnrollmentToken>> {
    return toConnection(await this.enrollmentTokenService.listForCluster(principal, cluster.id, page), same);
  }
}
