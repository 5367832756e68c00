import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The control plane's configuration: parsed once at start from the environment. This is the only
 * server-side place that reads `process.env`; everything else receives `ServerConfig`.
 * Others add keys here with additive edits.
 */
const intFromEnv = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** `true`/`1` or `false`/`0` (unset: false). */
const flagFromEnv = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .default('false')
  .transform((v) => v === 'true' || v === '1');

const databaseKeys = {
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/triad'),
};

export const serverConfigSchema = z
  .object({
    ...databaseKeys,
    REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
    REDIS_PREFIX: z.string().min(1).default('triad:'),
    NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
    /** The control plane's own NATS credentials (operator/JWT mode); absent on a no-auth dev NATS. */
    NATS_CREDS_FILE: z.string().min(1).optional(),
    /** Comma-separated NATS servers told to agents; defaults to NATS_URL. */
    NATS_AGENT_SERVERS: z.string().min(1).optional(),
    NATS_ACCOUNT_SIGNING_SEED_FILE: z.string().min(1).optional(),
    /** The account ("A…") whose signing key NATS_ACCOUNT_SIGNING_SEED_FILE holds; omit when that file holds the account's own seed. */
    NATS_ACCOUNT_PUBLIC_KEY: z.string().regex(/^A[A-Z2-7]{55}$/, 'a NATS account public key (A…)').optional(),
    /** ed25519 private key (PKCS8 PEM) that signs commands. */
    COMMAND_SIGNING_KEY_FILE: z.string().min(1),
    HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    /** host:port the agent gRPC server binds; a comma list binds several (loopback and a lab gateway). */
    GRPC_BIND: z.string().min(1).default('127.0.0.1:4001'),
    /** TLS for the agent gRPC server (PEM files); both or neither. Production should set them. */
    GRPC_TLS_CERT_FILE: z.string().min(1).optional(),
    GRPC_TLS_KEY_FILE: z.string().min(1).optional(),
    /**
     * Serve agent gRPC without TLS: development and labs only. Without TLS files and without this
     * flag the api refuses to start — enrollment tokens and agent credentials would cross the
     * network in clear.
     */
    GRPC_INSECURE: flagFromEnv,
    HEARTBEAT_INTERVAL_MS: intFromEnv(5000),
    COMMAND_TTL_MS: intFromEnv(600_000),
    /** Worker: how often the safety-net sweep reconciles clusters whose nodes are behind. */
    RECONCILE_SWEEP_INTERVAL_MS: intFromEnv(30_000),
    /** Worker: how often commands past their expiry are marked EXPIRED. */
    COMMAND_EXPIRY_INTERVAL_MS: intFromEnv(10_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .transform((env) => ({
    ...env,
    NATS_AGENT_SERVERS: (env.NATS_AGENT_SERVERS ?? env.NATS_URL)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  }));

export type ServerConfig = z.output<typeof serverConfigSchema>;

/** Nest injection token for `ServerConfig`. */
export const SERVER_CONFIG = Symbol.for('triad.ServerConfig');

export class ConfigError extends Error {}

/** Parses the environment (default `process.env`); throws one error listing every bad key. */
export function loadServerConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const parsed = serverConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** Only the database keys: for the migration CLI, which must not need the rest of the config. */
export function loadDatabaseConfig(env: Record<string, string | undefined> = process.env): { DATABASE_URL: string } {
  const parsed = z.object(databaseKeys).safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid DATABASE_URL: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Reads a file named by a config key, saying which key when it is missing. */
export function readConfigFile(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${key}=${path}: ${(e as Error).message}`);
  }
}
