// The worker process. Run: SWC_NODE_PROJECT=tsconfig.json node -r @swc-node/register apps/worker/src/main.ts
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createLogger } from '@triad/logging';
import { closeOnSignals, loadServerConfig } from '@triad/server-core';
import { WorkerModule } from './worker.module';

const SHUTDOWN_TIMEOUT_MS = 20_000;

async function main(): Promise<void> {
  const config = loadServerConfig();
  const logger = createLogger('worker', { level: config.LOG_LEVEL });
  // Nest's own console logger is off: startup errors are thrown to us, everything else logs through pino.
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { logger: false });
  await app.init();
  closeOnSignals(app, logger, { timeoutMs: SHUTDOWN_TIMEOUT_MS, what: 'finishing the current outbox batch and jobs' });
}

main().catch((e: unknown) => {
  // The logger may not exist yet (bad config): plain stderr.
  process.stderr.write(`worker failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
