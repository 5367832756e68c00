import { Inject } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ApiTokenRole } from '@triad/db';
import { PageArgs, toConnection, type Connection } from '@triad/server-core';
import { ApiTokenService } from './api-token.service';
import { ApiTokenConnection, ApiTokenType, CreateApiTokenArgs, CreatedApiToken } from './api-token.types';
import { CurrentPrincipal, Roles } from './auth.decorators';
import type { Principal } from './principal';

@Resolver(() => ApiTokenType)
export class ApiTokenResolver {
  constructor(@Inject(ApiTokenService) private readonly tokens: ApiTokenService) {}

  @Query(() => ApiTokenConnection)
  @Roles(ApiTokenRole.ADMIN)
  async apiTokens(@CurrentPrincipal() principal: Principal, @Args() page: PageArgs): Promise<Connection<ApiTokenType>> {
    return toConnection(await this.tokens.list(principal, page), ApiTokenType.from);
  }

  @Mutation(() => CreatedApiToken)
  @Roles(ApiTokenRole.ADMIN)
  async createApiToken(@CurrentPrincipal() principal: Principal, @Args() args: CreateApiTokenArgs): Promise<CreatedApiToken> {
    const { token, secret } = await this.tokens.create(principal, args);
    return { token: ApiTokenType.from(token), secret };
  }

  @Mutation(() => ApiTokenType)
  @Roles(ApiTokenRole.ADMIN)
  async revokeApiToken(@CurrentPrincipal() principal: Principal, @Args('id', { type: () => ID }) id: string): Promise<ApiTokenType> {
    return ApiTokenType.from(await this.tokens.revoke(principal, id));
  }
}
