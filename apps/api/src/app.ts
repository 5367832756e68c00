import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from '@triad/logging';
import type { ServerConfig } from '@triad/server-core';
import { ApiModule } from './api.module';
import { MetricsRegistry } from './metrics';
import { NestPinoLogger } from './nest-logger';

/** Builds the api application (not listening yet): used by main.ts and by tests. */
export async function createApiApp(config: ServerConfig, logger: Logger): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: 1024 * 1024 });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(config, logger), adapter, {
    logger: new NestPinoLogger(logger.child({ component: 'nest' })),
  });
  const metrics = app.get(MetricsRegistry);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  return app;
}
