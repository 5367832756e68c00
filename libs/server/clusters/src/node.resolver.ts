import { Inject } from '@nestjs/common';
import { Args, ID, Query, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, type Principal } from '@triad/auth';
import type { Command, Node } from '@triad/db';
import { toConnection, type Connection } from '@triad/server-core';
import { ClusterService } from './cluster.service';
import { CommandConnection, CommandsArgs, NodeType } from './clusters.types';

@Resolver(() => NodeType)
export class NodeResolver {
  constructor(@Inject(ClusterService) private readonly clusterService: ClusterService) {}

  @Query(() => NodeType)
  node(@CurrentPrincipal() principal: Principal, @Args('id', { type: () => ID }) id: string): Promise<Node> {
    return this.clusterService.getNode(principal, id);
  }

  @Query(() => CommandConnection, { description: 'Commands of one node or one cluster (give exactly one), newest first.' })
  async commands(@CurrentPrincipal() principal: Principal, @Args() args: CommandsArgs): Promise<Connection<Command>> {
    return toConnection(await this.clusterService.listCommands(principal, args, args), (c) => c);
  }
}
