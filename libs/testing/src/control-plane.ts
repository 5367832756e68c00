import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { fmtCreds } from '@nats-io/jwt';
import { fromSeed } from '@nats-io/nkeys';
import { createTestDatabase, type TestDatabase } from './database';
import { GraphQLClient } from './graphql-client';
import { startNatsServer, type TestNatsServer } from './nats-server';
import { freePort, startTsProcess, waitFor, type TriadProcess } from './processes';
import { selfSignedCertificate } from './tls';

/**
 * The whole control plane as operators run it — api and worker as separate processes, configured
 * by environment — on a fresh database, a private nats-server in operator (JWT) mode, and a
 * private Redis key prefix. For end-to-end tests and benchmarks.
 */
export interface ControlPlane {
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly db: TestDatabase;
  readonly nats: TestNatsServer;
  readonly graphqlUrl: string;
  readonly grpcAddress: string;
  /** The gRPC server's self-signed certificate: the CA agents trust (TRIAD_GRPC_TLS_CA_FILE). */
  readonly grpcCaFile: string;
  /** Channel credentials trusting that CA, for simulated agents. */
  grpcCredentials(): grpc.ChannelCredentials;
  readonly signingKeyPem: string;
  api: TriadProcess;
  worker: TriadProcess;
  /** Runs `apps/api/src/admin.ts` with the control plane's environment. */
  admin(args: string[]): Promise<{ code: number | null; output: string }>;
  /** Creates a tenant and returns its owner token. */
  bootstrapTenant(slug: string): Promise<string>;
  client(token?: string): GraphQLClient;
  restartApi(): Promise<void>;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  heartbeatIntervalMs?: number;
  commandTtlMs?: number;
  /** Address the gRPC listener binds (agents in namespaces need the lab gateway). */
  grpcHost?: string;
  /** Address the NATS listener binds; agents are told this address at enrollment (lab gateway). */
  natsHost?: string;
  logLevel?: string;
  /** More environment for api and worker (e.g. ROLLOUT_HEALTH_GRACE_MS). */
  env?: Record<string, string>;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'triad-cp-'));
  const db = await createTestDatabase('e2e');
  const nats = await startNatsServer({ jetstream: true, operatorMode: true, host: opts.natsHost });
  const creds = nats.controlPlaneCreds;
  if (!creds || !nats.accountSigningSeed || !nats.accountPublicKey) throw new Error('operator-mode NATS did not return credentials');

  const signingKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const file = (name: string, content: string | Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, content, { mode: 0o600 });
    return p;
  };
  const httpPort = await freePort();
  const grpcHost = opts.grpcHost ?? '127.0.0.1';
  const grpcAddress = `${grpcHost}:${await freePort(grpcHost)}`;
  // Agent gRPC over TLS as in production: a certificate for the address agents dial.
  const tls = selfSignedCertificate(join(dir, 'grpc-tls'), { ips: [...new Set(['127.0.0.1', grpcHost])] });
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `triad-e2e-${randomBytes(4).toString('hex')}:`,
    NATS_URL: nats.url,
    NATS_CREDS_FILE: file('control-plane.creds', fmtCreds(creds.jwt, fromSeed(new TextEncoder().encode(creds.seed)))),
    NATS_ACCOUNT_SIGNING_SEED_FILE: file('account-signing.seed', nats.accountSigningSeed),
    NATS_ACCOUNT_PUBLIC_KEY: nats.accountPublicKey,
    COMMAND_SIGNING_KEY_FILE: file('command-signing.pem', signingKeyPem),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    GRPC_BIND: grpcAddress,
    GRPC_TLS_CERT_FILE: tls.certFile,
    GRPC_TLS_KEY_FILE: tls.keyFile,
    HEARTBEAT_INTERVAL_MS: String(opts.heartbeatIntervalMs ?? 500),
    COMMAND_TTL_MS: String(opts.commandTtlMs ?? 120_000),
    LOG_LEVEL: opts.logLevel ?? 'debug',
    ...opts.env,
  };
  const base = `http://127.0.0.1:${httpPort}`;
  const startApi = async () => {
    const p = startTsProcess({ name: 'api', entry: 'apps/api/src/main.ts', env, logFile: join(dir, 'api.log') });
    await waitFor('api /healthz', async () => (await fetch(`${base}/healthz`)).ok, 90_000, 200);
    return p;
  };
  const api = await startApi();
  const worker = startTsProcess({ name: 'worker', entry: 'apps/worker/src/main.ts', env, logFile: join(dir, 'worker.log') });

  const cp: ControlPlane = {
    dir,
    env,
    db,
    nats,
    graphqlUrl: `${base}/graphql`,
    grpcAddress,
    grpcCaFile: tls.certFile,
    grpcCredentials: () => grpc.credentials.createSsl(readFileSync(tls.certFile)),
    signingKeyPem,
    api,
    worker,
    async admin(args) {
      const p = startTsProcess({ name: 'admin', entry: 'apps/api/src/admin.ts', args, env, logFile: join(dir, `admin-${randomBytes(3).toString('hex')}.log`) });
      const code = await p.exited;
      return { code, output: p.log() };
    },
    async bootstrapTenant(slug) {
      const out = join(dir, `${slug}.token`);
      const r = await cp.admin(['bootstrap-tenant', '--name', slug, '--slug', slug, '--out', out]);
      if (r.code !== 0) throw new Error(`bootstrap-tenant failed: ${r.output}`);
      return readFileSync(out, 'utf8').trim();
    },
    client: (token) => new GraphQLClient(`${base}/graphql`, token),
    async restartApi() {
      await cp.api.stop('SIGTERM', 20_000);
      cp.api = await startApi();
    },
    async stop() {
      await Promise.allSettled([cp.api.stop('SIGTERM', 15_000), cp.worker.stop('SIGTERM', 15_000)]);
      await nats.stop();
      await db.drop();
      // A SIGKILLed agent leaves its haproxy serving (by design: the data plane outlives the
      // agent); reap whatever still runs from this control plane's directory.
      try {
        execFileSync('pkill', ['-KILL', '-f', dir]);
      } catch {
        // pkill exits 1 when nothing matched
      }
      if (!process.env.TRIAD_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    },
  };
  return cp;
}

/** A Triad agent process on this host with its own state dir and its own managed haproxy. */
export function startLocalAgent(
  cp: ControlPlane,
  opts: { name: string; token?: string; haproxyBindAddress: string; dir?: string; env?: Record<string, string> },
): TriadProcess {
  const dir = opts.dir ?? join(cp.dir, 'agents', opts.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return startTsProcess({
    name: `agent-${opts.name}`,
    entry: 'apps/agent/src/main.ts',
    env: {
      TRIAD_CONTROL_PLANE: cp.grpcAddress,
      TRIAD_GRPC_TLS_CA_FILE: cp.grpcCaFile,
      ...(opts.token ? { TRIAD_ENROLLMENT_TOKEN: opts.token } : {}),
      TRIAD_STATE_DIR: join(dir, 'state'),
      TRIAD_NODE_NAME: opts.name,
      TRIAD_HAPROXY_MODE: 'managed',
      TRIAD_HAPROXY_CONFIG: join(dir, 'haproxy.cfg'),
      TRIAD_HAPROXY_STATS_SOCKET: join(dir, 'haproxy-stats.sock'),
      TRIAD_HAPROXY_BIND_ADDRESS: opts.haproxyBindAddress,
      // The rendered maxconn needs more open files than this host allows a process.
      TRIAD_HAPROXY_MAXCONN: '4096',
      TRIAD_LOG_LEVEL: 'debug',
      ...opts.env,
    },
    logFile: join(dir, 'agent.log'),
  });
}
