import { ArgsType, Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ConnectionType } from '@triad/server-core';
import { ApiTokenRole, type ApiToken } from '@triad/db';

registerEnumType(ApiTokenRole, { name: 'ApiTokenRole', description: 'owner > admin > operator > viewer' });

@ObjectType('ApiToken')
export class ApiTokenType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => ApiTokenRole)
  role!: ApiTokenRole;

  @Field({ description: 'First characters of the secret, to recognise it.' })
  prefix!: string;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Approximate (updated at most every few minutes).' })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  static from(t: ApiToken): ApiTokenType {
    return Object.assign(new ApiTokenType(), {
      id: t.id,
      name: t.name,
      role: t.role,
      prefix: t.prefix,
      createdAt: t.createdAt,
      lastUsedAt: t.lastUsedAt,
      expiresAt: t.expiresAt,
      revokedAt: t.revokedAt,
    });
  }
}

export const ApiTokenConnection = ConnectionType(ApiTokenType, 'ApiToken');

@ObjectType()
export class CreatedApiToken {
  @Field(() => ApiTokenType)
  token!: ApiTokenType;

  @Field({ description: 'The bearer secret. Shown only in this response; store it now.' })
  secret!: string;
}

@ArgsType()
export class CreateApiTokenArgs {
  @Field()
  name!: string;

  @Field(() => ApiTokenRole)
  role!: ApiTokenRole;

  @Field(() => Date, { nullable: true })
  expiresAt?: Date | null;
}
