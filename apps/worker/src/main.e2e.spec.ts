import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ClusterFixture } from '@triad/commands';
import { Command, CommandStatus, createDataSource, Outbox, type Node } from '@triad/db';
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
        RECONCILE_SWEEP_INTERVAL_MS: '1000',
        COMMAND_EXPIRY_INTERVAL_MS: '1000',
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

  const publicKey = publicKeyFromPem(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());

  /** Nodes with durable consumers like enrollment creates (the worker created the stream at start). */
  async function enrolledNodes(f: ClusterFixture, count?: number): Promise<Node[]> {
    const nodes = await f.nodes(count);
    const jsm = await jetstreamManager(nc);
    for (const n of nodes) {
      await jsm.consumers.add(COMMAND_STREAM, { durable_name: commandConsumerName(n.id), filter_subject: commandSubject(f.tenantId, n.id), ack_policy: AckPolicy.Explicit });
    }
    return nodes;
  }

  /** The next command the node's agent would read, verified. */
  async function nextCommand(f: ClusterFixture, node: Node) {
    const consumer = await jetstream(nc).consumers.get(COMMAND_STREAM, commandConsumerName(node.id));
    const msg = await consumer.next({ expires: 10_000 });
    if (!msg) throw new Error(`no command reached ${node.name}\n${worker?.log()}`);
    msg.ack();
    const cmd = verifyCommand(msg.json(), publicKey, { tenantId: f.tenantId, nodeId: node.id, now: new Date() });
    if (cmd.verb !== 'apply_revision') throw new Error(`unexpected ${cmd.verb} command for ${node.name}`);
    return cmd;
  }

  const newCluster = () => ClusterFixture.create(ds, () => labClusterSpec({ addresses: labLoopbackAddresses(3) }));

  it('turns a new revision into a signed command for every node on NATS', async () => {
    const f = await newCluster();
    const nodes = await enrolledNodes(f);
    const revision = await f.newRevision();
    for (const node of nodes) expect((await nextCommand(f, node)).params).toMatchObject({ revision, nodeName: node.name });
    await waitFor('outbox drained', async () => (await ds.getRepository(Outbox).countBy({ publishedAt: IsNull() })) === 0, 10_000);
  }, 60_000);

  it('expires a command nobody answered and the periodic sweep sends the node a new one', async () => {
    const f = await newCluster();
    const [node] = await enrolledNodes(f, 1);
    await f.newRevision();
    const first = await nextCommand(f, node);
    // The agent never reports back; let the command run out.
    await ds.getRepository(Command).update({ id: first.id }, { expiresAt: new Date(Date.now() - 1) });
    await waitFor('command EXPIRED', async () => (await ds.getRepository(Command).findOneByOrFail({ id: first.id })).status === CommandStatus.EXPIRED, 15_000, 200);
    const second = await nextCommand(f, node);
    expect(second.id).not.toBe(first.id);
    expect(second.generation).toBeGreaterThan(first.generation);
    expect(second.params.revision).toBe(first.params.revision);
  }, 60_000);

  it('stops cleanly on SIGTERM, saying so', async () => {
    const code = await worker?.stop('SIGTERM', 25_000);
    expect(code).toBe(0);
    expect(worker?.log()).toContain('"msg":"stopped"');
  }, 30_000);
});
