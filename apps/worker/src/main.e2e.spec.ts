import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ClusterFixture } from '@triad/commands';
import { createDataSource, Outbox } from '@triad/db';
import { COMMAND_STREAM, commandConsumerName, commandSubject, publicKeyFromPem, verifyCommand } from '@triad/protocol';
import {
  createTestDatabase,
  labClusterSpec,
  labLoopbackAddresses,
  startNatsServer,
  startTsProcess,
  waitFor,
  type TestDatabase,
  type TestNatsServer,
  type TriadProcess,
} from '@triad/testing';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { IsNull } from 'typeorm';

/** The worker entrypoint as operators run it: its own process, configured by the environment. */
describe('worker process', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let dir: string;
  let worker: TriadProcess | undefined;
  const redisPrefix = `triad-test-${randomBytes(4).toString('hex')}:`;
  const keys = generateKeyPairSync('ed25519');

  beforeAll(async () => {
    db = await createTestDatabase('worker_process');
    ds = await createDataSource(db.url).initialize();
    nats = await startNatsServer({ jetstream: true });
    nc = await connect({ servers: nats.url });
    dir = mkdtempSync(join(tmpdir(), 'triad-worker-proc-'));
    const keyFile = join(dir, 'command-signing.pem');
    writeFileSync(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    worker = startTsProcess({
      name: 'worker',
      entry: 'apps/worker/src/main.ts',
      env: {
        DATABASE_URL: db.url,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        REDIS_PREFIX: redisPrefix,
        NATS_URL: nats.url,
        COMMAND_SIGNING_KEY_FILE: keyFile,
        LOG_LEVEL: 'debug',
      },
      logFile: join(dir, 'worker.log'),
    });
    await waitFor('worker started', () => worker?.log().includes('worker started'), 60_000, 200);
  }, 90_000);

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await nc?.close();
    await nats?.stop();
    await ds?.destroy();
    await db?.drop();
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const leftovers = await redis.keys(`${redisPrefix}*`);
    if (leftovers.length) await redis.del(...leftovers);
    await redis.quit();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('turns a new revision into a signed command for every node on NATS', async () => {
    const f = await ClusterFixture.create(ds, () => labClusterSpec({ addresses: labLoopbackAddresses(3) }));
    const nodes = await f.nodes();
    // The worker created the stream at start; consumers as enrollment creates them.
    const jsm = await jetstreamManager(nc);
    for (const n of nodes) {
      await jsm.consumers.add(COMMAND_STREAM, { durable_name: commandConsumerName(n.id), filter_subject: commandSubject(f.tenantId, n.id), ack_policy: AckPolicy.Explicit });
    }
    const revision = await f.newRevision();
    const publicKey = publicKeyFromPem(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    for (const node of nodes) {
      const consumer = await jetstream(nc).consumers.get(COMMAND_STREAM, commandConsumerName(node.id));
      const msg = await consumer.next({ expires: 10_000 });
      if (!msg) throw new Error(`no command reached ${node.name}\n${worker?.log()}`);
      msg.ack();
      const cmd = verifyCommand(msg.json(), publicKey, { tenantId: f.tenantId, nodeId: node.id, now: new Date() });
      expect(cmd.params).toMatchObject({ revision, nodeName: node.name });
    }
    await waitFor('outbox drained', async () => (await ds.getRepository(Outbox).countBy({ publishedAt: IsNull() })) === 0, 10_000);
  }, 60_000);

  it('stops cleanly on SIGTERM, saying so', async () => {
    const code = await worker?.stop('SIGTERM', 25_000);
    expect(code).toBe(0);
    expect(worker?.log()).toContain('"msg":"stopped"');
  }, 30_000);
});
