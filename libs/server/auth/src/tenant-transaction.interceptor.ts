import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { GqlExecutionContext, type GqlContextType } from '@nestjs/graphql';
import { tenantTransaction } from '@triad/db';
import type { GraphQLResolveInfo } from 'graphql';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import { PRINCIPAL_KEY } from './auth.decorators';
import type { Principal } from './principal';

/**
 * Global interceptor (after AuthGuard): every authenticated resolver — queries, mutations and
 * field resolvers alike — runs in a `tenantTransaction` of its caller's tenant, so Postgres
 * row-level security backs up the tenant filter of every query it makes. Query resolvers get a
 * read-only transaction. Each resolver call is its own short transaction: a field resolver runs
 * after its parent's has committed, so one request never holds two connections.
 */
@Injectable()
export class TenantTransactionInterceptor implements NestInterceptor {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType<GqlContextType>() !== 'graphql') return next.handle();
    const gql = GqlExecutionContext.create(context);
    const principal = gql.getContext<Record<string, unknown>>()[PRINCIPAL_KEY] as Principal | undefined;
    if (!principal) return next.handle(); // @Public resolvers: no tenant to confine to
    const info = gql.getInfo<GraphQLResolveInfo>();
    const readOnly = info.parentType.name !== info.schema.getMutationType()?.name;
    return from(tenantTransaction(this.dataSource, principal.tenantId, () => lastValueFrom(next.handle(), { defaultValue: undefined }), { readOnly }));
  }
}
