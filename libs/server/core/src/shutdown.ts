import type { Logger } from '@triad/logging';

/**
 * Closes `app` on SIGTERM/SIGINT and exits: 0 when everything closed, 1 when closing failed or
 * took longer than `timeoutMs` (logged either way, so an operator knows whether it was clean).
 */
export function closeOnSignals(app: { close(): Promise<void> }, logger: Logger, opts: { timeoutMs: number; what: string }): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `shutting down: ${opts.what}`);
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: opts.timeoutMs }, 'shutdown did not finish in time; exiting anyway');
      logger.flush();
      process.exit(1);
    }, opts.timeoutMs);
    timer.unref();
    app
      .close()
      .then(() => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
