// The api process. Run: SWC_NODE_PROJECT=tsconfig.json node -r @swc-node/register apps/api/src/main.ts
// Migrations are applied separately (tools/db.sh migrate), never at boot.
import 'reflect-metadata';
import { createLogger } from '@triad/logging';
import { closeOnSignals, loadServerConfig } from '@triad/server-core';
import { createApiApp } from './app';

const SHUTDOWN_TIMEOUT_MS = 15_000;

async function main(): Promise<void> {
  const config = loadServerConfig();
  const logger = createLogger('api', { level: config.LOG_LEVEL });
  const app = await createApiApp(config, logger);
  await app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
  logger.info({ url: await app.getUrl(), grpc: config.GRPC_BIND }, 'api listening');

  closeOnSignals(app, logger, { timeoutMs: SHUTDOWN_TIMEOUT_MS, what: 'no new requests, finishing in-flight ones' });
}

main().catch((e: unknown) => {
  // The logger may not exist yet (bad config): plain stderr.
  process.stderr.write(`api failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
