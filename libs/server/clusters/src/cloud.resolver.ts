import { Inject } from '@nestjs/common';
import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, Roles, type Principal } from '@triad/auth';
import { ApiTokenRole, type Cloud, type Cluster } from '@triad/db';
import { PageArgs, toConnection, type Connection } from '@triad/server-core';
import { CloudService } from './cloud.service';
import { ClusterService } from './cluster.service';
import { CloudConnection, CloudType, ClusterConnection, CreateCloudArgs } from './clusters.types';

const same = <T>(x: T) => x;

@Resolver(() => CloudType)
export class CloudResolver {
  constructor(
    @Inject(CloudService) private readonly cloudService: CloudService,
    @Inject(ClusterService) private readonly clusterService: ClusterService,
  ) {}

  @Query(() => CloudConnection)
  async clouds(@CurrentPrincipal() principal: Principal, @Args() page: PageArgs): Promise<Connection<Cloud>> {
    return toConnection(await this.cloudService.list(principal, page), same);
  }

  @Query(() => CloudType)
  cloud(@CurrentPrincipal() principal: Principal, @Args('id', { type: () => ID }) id: string): Promise<Cloud> {
    return this.cloudService.get(principal, id);
  }

  @Mutation(() => CloudType)
  @Roles(ApiTokenRole.ADMIN)
  createCloud(@CurrentPrincipal() principal: Principal, @Args() args: CreateCloudArgs): Promise<Cloud> {
    return this.cloudService.create(principal, args);
  }

  @ResolveField(() => ClusterConnection)
  async clusters(@CurrentPrincipal() principal: Principal, @Parent() cloud: Cloud, @Args() page: PageArgs): Promise<Connection<Cluster>> {
    return toConnection(await this.clusterService.listInCloud(principal, cloud.id, page), same);
  }
}
