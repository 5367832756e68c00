import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * The one logger: structured JSON lines (pino). Bind context with `logger.child({ tenantId,
 * clusterId, nodeId, commandId })` so every line can be traced to what it is about.
 */
export function createLogger(service: string, options: { level?: string; destination?: number | string } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization'], censor: '[redacted]' },
  };
  return pino(opts, pino.destination({ dest: options.destination ?? 1, sync: false }));
}
