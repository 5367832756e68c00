import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { ApiTokenRole } from '@triad/db';
import type { Principal } from './principal';

export const IS_PUBLIC = 'triad:isPublic';
export const MIN_ROLE = 'triad:minRole';

/** Opts a resolver out of authentication. Nothing uses it today; every use needs a reason. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The weakest role allowed to call this resolver (`@Roles(ApiTokenRole.ADMIN)`). */
export const Roles = (minimum: ApiTokenRole) => SetMetadata(MIN_ROLE, minimum);

/** Key of the principal on the GraphQL context object. */
export const PRINCIPAL_KEY = 'principal';

/** The authenticated caller, set by AuthGuard. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = (GqlExecutionContext.create(ctx).getContext<Record<string, unknown>>()[PRINCIPAL_KEY]) as Principal | undefined;
  if (!principal) throw new Error('CurrentPrincipal used on a resolver without authentication');
  return principal;
});
