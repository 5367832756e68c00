import { AckPolicy, jetstream, type JsMsg } from '@nats-io/jetstream';
import { Command, OUTBOX_COMMAND_PUBLISH, OUTBOX_REVISION_CREATED, Outbox, TenantScopedRepository, createDataSource, type Node } from '@triad/db';
import { createLogger } from '@triad/logging';
import { COMMAND_STREAM, commandConsumerName, commandSubject, verifyCommand } from '@triad/protocol';
import { createTestDatabase, startNatsServer, waitFor, type TestDatabase, type TestNatsServer, labClusterSpec, labLoopbackAddresses } from '@triad/testing';
import type { DataSource } from 'typeorm';
import { commandPublishHandler } from './command-publisher';
import { commandStreamConfig, ensureCommandStream } from './command-stream';
import { ClusterFixture, testSigner } from './commands.fixtures';
import { NatsLink } from './nats-link';
import { OutboxRelay } from './outbox-relay';
import { Reconciler, revisionCreatedHandler } from './reconciler';


const labSpec = () => labClusterSpec({ addresses: labLoopbackAddresses(3) });
describe(OutboxRelay.name, () => {
  let db: TestDatabase;
  let ds: DataSource;
  let nats: TestNatsServer;
  let link: NatsLink;
  let reconciler: Reconciler;
  let relay: OutboxRelay;
  const signer = testSigner();
  const logger = createLogger('test', { level: 'silent' });

  beforeAll(async () => {
    db = await createTestDatabase('outbox_relay');
    ds = await createDataSource(db.url).initialize();
    nats = await startNatsServer({ jetstream: true });
    link = new NatsLink({ servers: nats.url, name: 'relay-test' }, logger);
    link.onConnected(async () => ensureCommandStream(await link.jetstreamManager(), commandStreamConfig()));
    await link.start();
    await ensureCommandStream(await link.jetstreamManager(), commandStreamConfig());
    reconciler = new Reconciler(ds, signer, { commandTtlMs: 60_000 }, logger);
    relay = new OutboxRelay(
      ds,
      { [OUTBOX_REVISION_CREATED]: revisionCreatedHandler(reconciler), [OUTBOX_COMMAND_PUBLISH]: commandPublishHandler(ds, link, logger, 2_000) },
      () => link.connected,
      // A slow poll: deliveries faster than this prove the LISTEN/NOTIFY wake-up works.
      { databaseUrl: db.url, pollIntervalMs: 2_000, retryBaseMs: 100, retryMaxMs: 500 },
      logger,
    );
  });

  afterAll(async () => {
    await relay?.stop();
    await link?.close();
    await nats?.stop();
    await ds?.destroy();
    await db?.drop();
  });

  /** Enrolled nodes, each with a durable pull consumer on its subject like the one enrollment creates. */
  async function enrolledNodes(f: ClusterFixture, count = 3): Promise<Node[]> {
    const nodes = await f.nodes(count);
    const jsm = await link.jetstreamManager();
    for (const n of nodes) {
      await jsm.consumers.add(COMMAND_STREAM, { durable_name: commandConsumerName(n.id), filter_subject: commandSubject(f.tenantId, n.id), ack_policy: AckPolicy.Explicit });
    }
    return nodes;
  }

  /** The next command on the node's consumer, as the agent reads it (or null). */
  async function nextCommand(node: Node, expiresMs = 5_000): Promise<JsMsg | null> {
    const consumer = await jetstream(link.connection()).consumers.get(COMMAND_STREAM, commandConsumerName(node.id));
    const msg = await consumer.next({ expires: expiresMs });
    msg?.ack();
    return msg;
  }

  async function messagesOnSubject(subject: string): Promise<number> {
    const info = await (await link.jetstreamManager()).streams.info(COMMAND_STREAM, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  const unpublished = (f: ClusterFixture) =>
    new TenantScopedRepository(ds.manager, Outbox).queryBuilder(f.tenantId, 'o').andWhere('o.publishedAt IS NULL').getMany();

  it('delivers a new revision to every node as a signed command on its own subject, within milliseconds of the commit', async () => {
    await relay.start();
    const f = await ClusterFixture.create(ds, labSpec);
    const nodes = await enrolledNodes(f);
    // A plain subscription sees each message the moment JetStream stores it: the latency measure.
    const arrivals: Array<{ subject: string; at: number }> = [];
    const sub = link.connection().subscribe(`cmd.${f.tenantId}.>`, { callback: (_err, m) => void arrivals.push({ subject: m.subject, at: performance.now() }) });
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      arrivals.length = 0;
      const t0 = performance.now(); // includes the revision's own transaction
      await f.newRevision();
      await waitFor('a command per node', () => arrivals.length === nodes.length, 5_000, 5);
      latencies.push(...arrivals.map((a) => a.at - t0));
    }
    sub.unsubscribe();
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1);
    console.info(`revision commit → command on NATS (ms) over ${latencies.length}: p50 ${pct(0.5)}, p90 ${pct(0.9)}, max ${pct(1)}`);
    expect(latencies.at(-1)).toBeLessThan(1_000); // the poll is 2 s: NOTIFY did the waking

    // What the agents read through their consumers: signed, addressed to them, newest revision last.
    for (const node of nodes) {
      let msg: JsMsg | null = null;
      for (let m = await nextCommand(node, 1_000); m; m = await nextCommand(node, 1_000)) msg = m;
      if (!msg) throw new Error(`no command for ${node.name}`);
      expect(msg.subject).toBe(commandSubject(f.tenantId, node.id));
      const cmd = verifyCommand(msg.json(), signer.publicKey, { tenantId: f.tenantId, nodeId: node.id, now: new Date() });
      expect(cmd.params).toMatchObject({ revision: 10, nodeName: node.name });
      expect(cmd.generation).toBe(10);
      expect(msg.headers?.get('Nats-Msg-Id')).toBe(cmd.id);
    }
    await waitFor('outbox rows marked', async () => (await unpublished(f)).length === 0, 5_000);
    await relay.stop();
  }, 60_000);

  it('does not deliver a command twice when the worker died between publishing it and marking the row', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const [node] = await enrolledNodes(f, 1);
    await f.newRevision();
    await reconciler.reconcileCluster(f.tenantId, f.clusterId);
    const row = await ds.getRepository(Outbox).findOneByOrFail({ tenantId: f.tenantId, kind: OUTBOX_COMMAND_PUBLISH });
    // The crashed worker: published, never marked.
    await commandPublishHandler(ds, link, logger).handle(row);
    expect((await ds.getRepository(Outbox).findOneByOrFail({ id: row.id })).publishedAt).toBeNull();

    await relay.runOnce(); // the next worker takes the row again and re-publishes it
    expect((await ds.getRepository(Outbox).findOneByOrFail({ id: row.id })).publishedAt).toBeInstanceOf(Date);
    expect(await messagesOnSubject(commandSubject(f.tenantId, node.id))).toBe(1);
    expect(await nextCommand(node)).not.toBeNull();
    expect(await nextCommand(node, 1_000)).toBeNull();
  });

  it('keeps commands in the outbox while NATS is down and delivers them when it is back', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const nodes = await enrolledNodes(f, 2);
    await relay.start();
    await nats.down();
    await waitFor('link notices NATS is down', () => !link.connected, 10_000);

    await f.newRevision();
    // The revision is turned into commands (Postgres only); their publication waits.
    await waitFor('commands issued', async () => (await ds.getRepository(Command).countBy({ clusterId: f.clusterId })) === 2, 5_000);
    await new Promise((r) => setTimeout(r, 500));
    const waiting = await unpublished(f);
    expect(waiting.map((r) => r.kind)).toEqual([OUTBOX_COMMAND_PUBLISH, OUTBOX_COMMAND_PUBLISH]);
    expect(waiting.every((r) => r.attempts === 0)).toBe(true); // no attempt burnt while NATS is away

    await nats.up();
    await waitFor('link reconnects', () => link.connected, 15_000);
    for (const node of nodes) expect(await nextCommand(node, 15_000)).not.toBeNull();
    await waitFor('outbox drained', async () => (await unpublished(f)).length === 0, 5_000);
    await relay.stop();
  }, 40_000);

  it('recreates the command stream when NATS lost it and still delivers', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const [node] = await f.nodes(1);
    await (await link.jetstreamManager()).streams.delete(COMMAND_STREAM);
    await f.newRevision();
    await relay.runOnce(); // reconcile
    await relay.runOnce(); // publish
    expect(await unpublished(f)).toEqual([]);
    expect(await messagesOnSubject(commandSubject(f.tenantId, node.id))).toBe(1);
  });

  it('prunes only rows published longer ago than the retention', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    await f.nodes(1);
    await f.newRevision();
    await relay.runOnce();
    await relay.runOnce();
    const rows = await ds.getRepository(Outbox).findBy({ tenantId: f.tenantId });
    expect(rows.map((r) => r.publishedAt)).toEqual([expect.any(Date), expect.any(Date)]);
    const [old, recent] = rows;
    await ds.getRepository(Outbox).update({ id: old.id }, { publishedAt: new Date(Date.now() - 8 * 86_400_000) });
    const waiting = await new TenantScopedRepository(ds.manager, Outbox).insert(f.tenantId, { kind: 'not.handled.here', aggregateId: 'x', payload: {} });

    expect(await relay.prunePublished(7 * 86_400_000)).toBeGreaterThanOrEqual(1);
    const left = (await ds.getRepository(Outbox).findBy({ tenantId: f.tenantId })).map((r) => r.id).sort();
    expect(left).toEqual([recent.id, waiting.id].sort());
  });
});
