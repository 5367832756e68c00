import { Command, CommandStatus, Node, NodeStatus, OUTBOX_COMMAND_PUBLISH, Outbox, TenantScopedRepository, createDataSource } from '@triad/db';
import { createLogger } from '@triad/logging';
import { commandSubject, verifyCommand } from '@triad/protocol';
import { createTestDatabase, type TestDatabase, labClusterSpec, labLoopbackAddresses } from '@triad/testing';
import type { DataSource } from 'typeorm';
import { ClusterFixture, testSigner } from './commands.fixtures';
import { Reconciler, type ReconcilerOptions } from './reconciler';


const labSpec = () => labClusterSpec({ addresses: labLoopbackAddresses(3) });
describe(Reconciler.name, () => {
  let db: TestDatabase;
  let ds: DataSource;
  const signer = testSigner();
  const logger = createLogger('test', { level: 'silent' });
  const reconciler = (opts: Partial<ReconcilerOptions> = {}) => new Reconciler(ds, signer, { commandTtlMs: 60_000, ...opts }, logger);

  beforeAll(async () => {
    db = await createTestDatabase('reconciler');
    ds = await createDataSource(db.url).initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const commandsOf = (f: ClusterFixture) => new TenantScopedRepository(ds.manager, Command).find(f.tenantId, { clusterId: f.clusterId }, { generation: 'ASC' });
  const setStatus = (id: string, status: CommandStatus, extra: Partial<Pick<Command, 'deliveredAt' | 'finishedAt' | 'message'>> = {}) => ds.getRepository(Command).update({ id }, { status, ...extra });

  it('issues one signed apply_revision command per node of a new revision, with its outbox row', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const nodes = await f.nodes();
    const revision = await f.newRevision();

    const outcome = await reconciler().reconcileCluster(f.tenantId, f.clusterId);

    expect(outcome.issued.map((c) => c.nodeName).sort()).toEqual(f.nodeNames);
    const commands = await commandsOf(f);
    expect(commands).toHaveLength(3);
    for (const node of nodes) {
      const cmd = commands.find((c) => c.nodeId === node.id) as Command;
      expect(cmd).toMatchObject({ status: CommandStatus.PENDING, verb: 'apply_revision', revision, generation: 1 });
      expect(cmd.expiresAt.getTime() - cmd.issuedAt.getTime()).toBe(60_000);
      const outbox = await ds.getRepository(Outbox).findOneByOrFail({ aggregateId: cmd.id });
      expect(outbox).toMatchObject({ kind: OUTBOX_COMMAND_PUBLISH, tenantId: f.tenantId, publishedAt: null });
      const verified = verifyCommand(outbox.payload, signer.publicKey, { tenantId: f.tenantId, nodeId: node.id, now: new Date() });
      expect(verified).toMatchObject({ id: cmd.id, generation: 1, verb: 'apply_revision' });
      expect(verified.params).toMatchObject({ clusterId: f.clusterId, revision, nodeName: node.name });
      if (verified.verb !== 'apply_revision') throw new Error('expected apply_revision');
      expect(verified.params.artifacts.map((a) => a.name)).toEqual(['cib.xml', 'haproxy.cfg']);
      expect(outcome.issued.find((c) => c.nodeId === node.id)?.subject).toBe(commandSubject(f.tenantId, node.id));
    }
  });

  it('does not issue a second command while one for the revision is in flight', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    await f.nodes();
    await f.newRevision();
    await reconciler().reconcileCluster(f.tenantId, f.clusterId);
    const again = await reconciler().reconcileCluster(f.tenantId, f.clusterId);
    expect(again.issued).toEqual([]);
    expect(again.decisions.every((d) => d.action === 'skip' && d.reason === 'COMMAND_IN_FLIGHT')).toBe(true);
    expect(await commandsOf(f)).toHaveLength(3);
  });

  it('issues exactly one command per node when many reconcilers run at once', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    await f.nodes();
    await f.newRevision();
    await Promise.all(Array.from({ length: 5 }, () => reconciler().reconcileCluster(f.tenantId, f.clusterId)));
    expect(await commandsOf(f)).toHaveLength(3);
  });

  it('gives every new command of a node a strictly higher generation', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const [node] = await f.nodes(1);
    const generations: number[] = [];
    for (let i = 0; i < 3; i++) {
      await f.newRevision();
      const { issued } = await reconciler().reconcileCluster(f.tenantId, f.clusterId);
      generations.push(issued[0].generation);
    }
    expect(generations).toEqual([1, 2, 3]);
    expect((await ds.getRepository(Node).findOneByOrFail({ id: node.id })).commandGeneration).toBe(3);
  });

  it('sends nothing to decommissioned, not yet enrolled or unreachable nodes, or nodes the spec does not name', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    await f.node('controller-1', { status: NodeStatus.DECOMMISSIONED });
    await f.node('controller-2', { enrolledAt: null });
    await f.node('controller-3', { status: NodeStatus.UNREACHABLE });
    await f.node('controller-9');
    await f.newRevision();
    const outcome = await reconciler().reconcileCluster(f.tenantId, f.clusterId);
    expect(outcome.issued).toEqual([]);
    expect(outcome.decisions.map((d) => (d.action === 'skip' ? d.reason : d.action)).sort()).toEqual(['DECOMMISSIONED', 'NOT_ENROLLED', 'NOT_IN_SPEC', 'UNREACHABLE']);
  });

  it('sends a reconnecting agent with an old applied revision a new command once the old one expired', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const [node] = await f.nodes(1);
    await f.newRevision();
    const first = await reconciler().reconcileCluster(f.tenantId, f.clusterId);
    await setStatus(first.issued[0].commandId, CommandStatus.EXPIRED, { finishedAt: new Date() });
    await ds.getRepository(Node).update({ id: node.id }, { status: NodeStatus.UNREACHABLE });
    expect((await reconciler().reconcileCluster(f.tenantId, f.clusterId)).issued).toEqual([]); // unreachable: nothing queued

    const hello = await reconciler().reconcileNode(f.tenantId, node.id); // the agent said Hello
    expect(hello.issued).toHaveLength(1);
    expect(hello.issued[0].generation).toBe(2);
  });

  it('sends nothing to a reconnecting agent already at the current revision', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const [node] = await f.nodes(1);
    const revision = await f.newRevision();
    await ds.getRepository(Node).update({ id: node.id }, { appliedRevision: revision });
    const outcome = await reconciler().reconcileNode(f.tenantId, node.id);
    expect(outcome.issued).toEqual([]);
    expect(outcome.decisions).toEqual([expect.objectContaining({ action: 'skip', reason: 'UP_TO_DATE' })]);
  });

  it('does not reconcile another tenant\'s node', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const other = await ClusterFixture.create(ds, labSpec);
    const [node] = await f.nodes(1);
    await f.newRevision();
    expect((await reconciler().reconcileNode(other.tenantId, node.id)).issued).toEqual([]);
    expect(await commandsOf(f)).toHaveLength(0);
  });

  it('retries a failed revision with backoff and gives up after the maximum attempts', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    await f.nodes(1);
    await f.newRevision();
    const failNewest = async () => {
      const cmd = (await commandsOf(f)).at(-1) as Command;
      await setStatus(cmd.id, CommandStatus.FAILED, { deliveredAt: new Date(), finishedAt: new Date(), message: 'haproxy -c failed' });
    };
    const slow = reconciler({ retry: { maxAttempts: 2, backoffBaseMs: 60_000, backoffMaxMs: 60_000 } });
    const immediate = reconciler({ retry: { maxAttempts: 2, backoffBaseMs: 0, backoffMaxMs: 0 } });

    await slow.reconcileCluster(f.tenantId, f.clusterId);
    await failNewest();
    const backingOff = await slow.reconcileCluster(f.tenantId, f.clusterId);
    expect(backingOff.decisions[0]).toMatchObject({ action: 'skip', reason: 'BACKING_OFF' });

    expect((await immediate.reconcileCluster(f.tenantId, f.clusterId)).issued).toHaveLength(1); // backoff over
    await failNewest();
    const gaveUp = await immediate.reconcileCluster(f.tenantId, f.clusterId);
    expect(gaveUp.decisions[0]).toMatchObject({ action: 'skip', reason: 'GAVE_UP' });
    expect(await commandsOf(f)).toHaveLength(2);

    await f.newRevision(); // a new revision starts a new budget
    expect((await immediate.reconcileCluster(f.tenantId, f.clusterId)).issued).toHaveLength(1);
  });

  it('lists the clusters whose nodes are behind for the periodic sweep', async () => {
    const behind = await ClusterFixture.create(ds, labSpec);
    await behind.nodes(1);
    await behind.newRevision();
    const upToDate = await ClusterFixture.create(ds, labSpec);
    const [n] = await upToDate.nodes(1);
    await ds.getRepository(Node).update({ id: n.id }, { appliedRevision: await upToDate.newRevision() });
    const list = await reconciler().clustersBehind();
    expect(list).toContainEqual({ tenantId: behind.tenantId, clusterId: behind.clusterId });
    expect(list).not.toContainEqual({ tenantId: upToDate.tenantId, clusterId: upToDate.clusterId });
  });
});
