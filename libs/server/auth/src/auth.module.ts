import { Global, Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ApiTokenResolver } from './api-token.resolver';
import { ApiTokenService } from './api-token.service';
import { AuthGuard } from './auth.guard';
import { TenantTransactionInterceptor } from './tenant-transaction.interceptor';

/**
 * API token authentication for every GraphQL resolver (global guard), each resolver confined to
 * its tenant by a row-level-security transaction (global interceptor), and token management.
 * Global: every subscription resolver re-checks its token with ApiTokenService.
 */
@Global()
@Module({
  providers: [ApiTokenService, ApiTokenResolver, { provide: APP_GUARD, useClass: AuthGuard }, { provide: APP_INTERCEPTOR, useClass: TenantTransactionInterceptor }],
  exports: [ApiTokenService],
})
export class AuthModule {}

/** Resolvers this module registers (for printing the schema without booting the app). */
export const AUTH_RESOLVERS = [ApiTokenResolver];
