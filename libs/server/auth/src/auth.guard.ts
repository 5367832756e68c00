import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext, type GqlContextType } from '@nestjs/graphql';
import { ApiTokenRole } from '@triad/db';
import type { FastifyRequest } from 'fastify';
import type { GraphQLResolveInfo } from 'graphql';
import { ApiTokenService } from './api-token.service';
import { IS_PUBLIC, MIN_ROLE, PRINCIPAL_KEY } from './auth.decorators';
import { AuthException, AuthExceptionCode } from './auth.exception';
import type { Principal } from './principal';
import { roleAtLeast } from './roles';

/**
 * Global guard (APP_GUARD): every GraphQL resolver needs a valid API token unless marked
 * @Public(). Mutations need at least `operator` (viewers read only); @Roles raises the bar.
 * The token is checked once per request; later resolvers reuse the principal on the context.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiTokenService) private readonly tokens: ApiTokenService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType<GqlContextType>() !== 'graphql') return true; // plain HTTP routes (/healthz, /metrics) are public
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const gql = GqlExecutionContext.create(context);
    const ctx = gql.getContext<Record<string, unknown> & { reply?: { request: FastifyRequest }; principalPromise?: Promise<Principal> }>();
    ctx.principalPromise ??= this.tokens.authenticate(bearerToken(ctx.reply?.request));
    const principal = await ctx.principalPromise;
    ctx[PRINCIPAL_KEY] = principal;

    const info = gql.getInfo<GraphQLResolveInfo>();
    const isMutation = info.parentType.name === info.schema.getMutationType()?.name;
    const minimum = this.reflector.getAllAndOverride<ApiTokenRole | undefined>(MIN_ROLE, targets) ?? (isMutation ? ApiTokenRole.OPERATOR : ApiTokenRole.VIEWER);
    if (isMutation && !roleAtLeast(minimum, ApiTokenRole.OPERATOR)) {
      throw new Error(`${info.fieldName}: a mutation cannot allow a role below operator`);
    }
    if (!roleAtLeast(principal.role, minimum)) {
      throw new AuthException(`${info.fieldName} needs the ${minimum} role or higher; this token is ${principal.role}`, AuthExceptionCode.INSUFFICIENT_ROLE);
    }
    return true;
  }
}

function bearerToken(request: FastifyRequest | undefined): string | undefined {
  const header = request?.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m?.[1];
}
