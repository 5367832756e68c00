// Prints the api's GraphQL schema (SDL) to stdout without a database: tools/gen-schema.sh writes
// it to apps/api/schema.graphql. api.schema.int.spec.ts checks the running app serves the same.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { GraphQLSchemaBuilderModule, GraphQLSchemaFactory } from '@nestjs/graphql';
import { AUTH_RESOLVERS } from '@triad/auth';
import { CLUSTER_RESOLVERS } from '@triad/clusters';
import { HEALTH_RESOLVERS } from '@triad/health';
import { REMEDIATION_RESOLVERS } from '@triad/remediation';
import { ROLLOUT_RESOLVERS } from '@triad/rollout';
import { lexicographicSortSchema, printSchema } from 'graphql';

export const API_RESOLVERS = [...AUTH_RESOLVERS, ...CLUSTER_RESOLVERS, ...ROLLOUT_RESOLVERS, ...REMEDIATION_RESOLVERS, ...HEALTH_RESOLVERS];

export async function buildSchemaSdl(): Promise<string> {
  const app = await NestFactory.createApplicationContext(GraphQLSchemaBuilderModule, { logger: false });
  try {
    const schema = await app.get(GraphQLSchemaFactory).create(API_RESOLVERS);
    return `${printSchema(lexicographicSortSchema(schema))}\n`;
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  buildSchemaSdl()
    .then((sdl) => process.stdout.write(sdl))
    .catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    });
}
