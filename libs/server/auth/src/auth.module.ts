import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiTokenResolver } from './api-token.resolver';
import { ApiTokenService } from './api-token.service';
import { AuthGuard } from './auth.guard';

/** API token authentication for every GraphQL resolver (global guard) and token management. */
@Module({
  providers: [ApiTokenService, ApiTokenResolver, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [ApiTokenService],
})
export class AuthModule {}

/** Resolvers this module registers (for printing the schema without booting the app). */
export const AUTH_RESOLVERS = [ApiTokenResolver];
