import { Inject } from '@nestjs/common';
import { Args, ID, Mutation, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, Roles, type Principal } from '@triad/auth';
import { ApiTokenRole, type EnrollmentToken } from '@triad/db';
import { CreatedEnrollmentToken, CreateEnrollmentTokenArgs, EnrollmentTokenType } from './clusters.types';
import { EnrollmentTokenService, type IssuedEnrollmentToken } from './enrollment-token.service';

@Resolver(() => EnrollmentTokenType)
export class EnrollmentTokenResolver {
  constructor(@Inject(EnrollmentTokenService) private readonly tokenService: EnrollmentTokenService) {}

  @Mutation(() => CreatedEnrollmentToken)
  @Roles(ApiTokenRole.ADMIN)
  createEnrollmentToken(@CurrentPrincipal() principal: Principal, @Args() args: CreateEnrollmentTokenArgs): Promise<IssuedEnrollmentToken> {
    return this.tokenService.create(principal, args);
  }

  @Mutation(() => EnrollmentTokenType)
  @Roles(ApiTokenRole.ADMIN)
  revokeEnrollmentToken(@CurrentPrincipal() principal: Principal, @Args('id', { type: () => ID }) id: string): Promise<EnrollmentToken> {
    return this.tokenService.revoke(principal, id);
  }
}
