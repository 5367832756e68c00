// Heartbeat throughput of one api process.
//
//   SWC_NODE_PROJECT=tsconfig.json node -r @swc-node/register tools/bench/heartbeats.ts [--agents 200] [--seconds 10]
//
// Starts a fresh database, a private nats-server and one real api process (apps/api), enrolls N
// simulated agents through the real Enroll RPC, opens N real Connect streams, and has every agent
// send heartbeats as fast as gRPC flow control lets it (the server handles one message of a
// stream at a time). Prints heartbeats per second the api processed (proved by the last sequence
// number each node's lease holds in Redis) and the Postgres row updates of `nodes` meanwhile.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { hashSecret, issueSecret } from '@triad/db';
import {
  agentServiceClient,
  createTestDatabase,
  enrollSimulatedAgent,
  freePort,
  SimulatedAgentStream,
  startNatsServer,
  startTsProcess,
  waitFor,
  type EnrolledIdentity,
} from '@triad/testing';

const opts = new Command()
  .option('--agents <n>', 'simulated agents', (v) => Number.parseInt(v, 10), 200)
  .option('--seconds <n>', 'how long agents send', (v) => Number.parseInt(v, 10), 10)
  .parse()
  .opts<{ agents: number; seconds: number }>();

/** Backends report table statistics when idle at most every 10 s (PostgreSQL 15 cumulative stats). */
const PG_STATS_FLUSH_MS = 11_000;
const WARMUP_MS = 2_000;
const MAX_AHEAD = 200;

async function nodeUpdates(pg: Client): Promise<number> {
  const r = await pg.query<{ n: string }>("SELECT n_tup_upd::text AS n FROM pg_stat_user_tables WHERE relname = 'nodes'");
  return Number(r.rows[0]?.n ?? 0);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'triad-bench-'));
  const db = await createTestDatabase('bench');
  const nats = await startNatsServer({ jetstream: true });
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `bench:${randomUUID()}:`;
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const keyFile = join(dir, 'command-signing.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const grpcPort = await freePort();

  const tenant = await pg.query<{ id: string }>("INSERT INTO tenants (name, slug) VALUES ('bench', $1) RETURNING id", [`bench-${randomUUID().slice(0, 8)}`]);
  const tenantId = tenant.rows[0].id;
  const cloud = await pg.query<{ id: string }>("INSERT INTO clouds (tenant_id, name) VALUES ($1, 'bench') RETURNING id", [tenantId]);
  const cluster = await pg.query<{ id: string }>("INSERT INTO clusters (tenant_id, cloud_id, name) VALUES ($1, $2, 'bench') RETURNING id", [tenantId, cloud.rows[0].id]);
  const token = issueSecret('enr');
  await pg.query(
    `INSERT INTO enrollment_tokens (tenant_id, cloud_id, cluster_id, name, token_hash, prefix, max_uses, expires_at)
     VALUES ($1, $2, $3, 'bench', $4, $5, $6, now() + interval '1 hour')`,
    [tenantId, cloud.rows[0].id, cluster.rows[0].id, hashSecret(token.secret), token.prefix, opts.agents],
  );

  const api = startTsProcess({
    name: 'api',
    entry: 'apps/api/src/main.ts',
    logFile: join(dir, 'api.log'),
    env: {
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: prefix,
      NATS_URL: nats.url,
      COMMAND_SIGNING_KEY_FILE: keyFile,
      HTTP_PORT: String(await freePort()),
      GRPC_BIND: `127.0.0.1:${grpcPort}`,
      // Plaintext: the figures are the control plane's heartbeat handling, not TLS.
      GRPC_INSECURE: 'true',
      HEARTBEAT_INTERVAL_MS: '5000',
      LOG_LEVEL: 'warn',
    },
  });
  const client = agentServiceClient(`127.0.0.1:${grpcPort}`);
  const streams: SimulatedAgentStream[] = [];
  try {
    const agents: EnrolledIdentity[] = [];
    await waitFor('api gRPC server', async () => agents.push(await enrollSimulatedAgent(client, token.secret, 'bench-0')), 60_000, 250);
    for (let i = 1; i < opts.agents; i++) agents.push(await enrollSimulatedAgent(client, token.secret, `bench-${i}`));
    for (const a of agents) {
      const s = SimulatedAgentStream.open(client, a);
      streams.push(s);
      await s.hello();
    }
    await Promise.all(streams.map((s) => s.next('desired', 30_000)));
    // Let the Hello writes reach the statistics before counting.
    await new Promise((r) => setTimeout(r, PG_STATS_FLUSH_MS));
    const updatesBefore = await nodeUpdates(pg);

    const storedSeq = async (a: EnrolledIdentity) => Number(await redis.hget(`${prefix}fleet:hb:${a.nodeId}`, 'seq'));
    const processed = async () => (await Promise.all(agents.map(storedSeq))).reduce((x, y) => x + y, 0);
    const sent = new Array<number>(agents.length).fill(0);
    const until = Date.now() + (WARMUP_MS + opts.seconds * 1000);
    const senders = Promise.all(
      streams.map(async (s, i) => {
        while (Date.now() < until) {
          await s.heartbeat(++sent[i], { components: [{ component: 'haproxy', state: 'COMPONENT_OK', summary: 'ok', detailJson: `{"seq":${sent[i]}}` }] });
          // Keep at most MAX_AHEAD unprocessed beats per agent: gRPC windows would let a client queue far more.
          if (sent[i] % MAX_AHEAD === 0) while (sent[i] - (await storedSeq(agents[i])) > MAX_AHEAD && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        }
      }),
    );
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const [p1, t1] = [await processed(), Date.now()];
    await senders;
    const [p2, t2] = [await processed(), Date.now()];
    for (const s of streams) s.close();
    await new Promise((r) => setTimeout(r, PG_STATS_FLUSH_MS));
    const updates = (await nodeUpdates(pg)) - updatesBefore;

    const rate = Math.round(((p2 - p1) / (t2 - t1)) * 1000);
    process.stdout.write(
      [
        `agents: ${agents.length} (real enrolled identities, one Connect stream each), measured over ${((t2 - t1) / 1000).toFixed(1)} s after ${WARMUP_MS / 1000} s warm-up`,
        `heartbeats processed by one api process: ${p2} in all, ${rate} heartbeats/s`,
        `Postgres row updates of nodes during the run: ${updates} (${(updates / p2).toFixed(5)} per heartbeat; the first beat of each agent changes its health from Hello's empty one)`,
      ].join('\n') + '\n',
    );
  } catch (e) {
    process.stderr.write(`api log (tail):\n${api.log().slice(-4000)}\n`);
    throw e;
  } finally {
    for (const s of streams) s.close();
    client.close();
    await api.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await pg.end();
    await nats.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
