import { randomBytes } from 'node:crypto';
import { ClusterFixture, CommandsService, Reconciler, testSigner } from '@triad/commands';
import { AuditEvent, Command, CommandStatus, Node, NodeStatus, Rollout, RolloutStatus, RolloutStepStatus, SYSTEM_ACTOR, createDataSource } from '@triad/db';
import { NodePresenceStore } from '@triad/fleet';
import { createLogger } from '@triad/logging';
import type { CommandUpdate__Output } from '@triad/protocol';
import { createTestDatabase, labClusterSpec, labLoopbackAddresses, type TestDatabase } from '@triad/testing';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { RolloutEventPublisher, RolloutEventSubscriber, type RolloutProgressEvent } from './rollout-events';
import type { ComponentReport } from './rollout-plan';
import { presenceHeartbeats } from './rollout.module';
import { RolloutService, rolloutNodeSelection } from './rollout.service';

jest.setTimeout(60_000);

const labSpec = () => labClusterSpec({ addresses: labLoopbackAddresses(3) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const healthy: ComponentReport[] = [
  { component: 'haproxy', state: 'COMPONENT_OK' },
  { component: 'pacemaker', state: 'COMPONENT_OK' },
];

/** What a simulated agent does with a command for a revision, and what its heartbeats report. */
interface AgentBehaviour {
  outcome?: (nodeName: string, revision: number) => 'SUCCEEDED' | 'FAILED';
  health?: (nodeName: string, appliedRevision: number) => ComponentReport[];
}

describe(RolloutService.name, () => {
  let db: TestDatabase;
  let ds: DataSource;
  let redis: Redis;
  let subscriberRedis: Redis;
  let commands: CommandsService;
  let reconciler: Reconciler;
  let rollouts: RolloutService;
  let presence: NodePresenceStore;
  let subscriber: RolloutEventSubscriber;
  const prefix = `test-rollout-${randomBytes(4).toString('hex')}:`;
  const logger = createLogger('test', { level: 'silent' });
  let seq = 1;

  beforeAll(async () => {
    db = await createTestDatabase('rollout');
    ds = await createDataSource(db.url).initialize();
    redis = new Redis('redis://127.0.0.1:6379');
    subscriberRedis = new Redis('redis://127.0.0.1:6379');
    presence = new NodePresenceStore(redis, prefix);
    reconciler = new Reconciler(ds, testSigner(), { commandTtlMs: 60_000, selectFor: rolloutNodeSelection }, logger);
    commands = new CommandsService(ds, reconciler, logger);
    rollouts = new RolloutService(ds, reconciler, presenceHeartbeats(presence), new RolloutEventPublisher(redis, prefix), { applyTimeoutMs: 10_000, healthGraceMs: 100, healthTimeoutMs: 1_500 }, logger);
    subscriber = new RolloutEventSubscriber(subscriberRedis, prefix);
  });

  afterAll(async () => {
    const keys = await redis?.keys(`${prefix}*`);
    if (keys?.length) await redis.del(...keys);
    await subscriber?.close();
    redis?.disconnect();
    await ds?.destroy();
    await db?.drop();
  });

  function update(c: Command, state: CommandUpdate__Output['state'], extra: Partial<CommandUpdate__Output> = {}): CommandUpdate__Output {
    return { commandId: c.id, state, message: '', revision: c.revision ?? 0, generation: c.generation, artifacts: [], atMs: Date.now(), reason: '', resultJson: '', ...extra };
  }

  /** One round of every simulated agent: answer PENDING commands, then send a heartbeat each. */
  async function agentsRound(f: ClusterFixture, behaviour: AgentBehaviour): Promise<void> {
    const nodes = await ds.getRepository(Node).findBy({ tenantId: f.tenantId });
    const pending = await ds.getRepository(Command).find({ where: { tenantId: f.tenantId, status: CommandStatus.PENDING }, order: { issuedAt: 'ASC' } });
    for (const c of pending) {
      const node = nodes.find((n) => n.id === c.nodeId) as Node;
      await commands.recordUpdate(f.tenantId, c.nodeId, update(c, 'COMMAND_RUNNING'));
      const outcome = behaviour.outcome?.(node.name, c.revision ?? 0) ?? 'SUCCEEDED';
      if (outcome === 'SUCCEEDED') await commands.recordUpdate(f.tenantId, c.nodeId, update(c, 'COMMAND_SUCCEEDED'));
      else await commands.recordUpdate(f.tenantId, c.nodeId, update(c, 'COMMAND_FAILED', { reason: 'DRIVER_FAILED', message: 'haproxy -c: cannot bind socket' }));
    }
    for (const n of await ds.getRepository(Node).findBy({ tenantId: f.tenantId, status: NodeStatus.ONLINE })) {
      const components = behaviour.health?.(n.name, n.appliedRevision) ?? healthy;
      await presence.touch({ tenantId: f.tenantId, nodeId: n.id }, Date.now(), { seq: seq++, appliedRevision: n.appliedRevision, health: JSON.stringify(components) });
    }
  }

  /** Drives the cluster's rollouts to the end while the simulated agents answer; returns how long it took. */
  async function runRollout(f: ClusterFixture, behaviour: AgentBehaviour = {}): Promise<number> {
    const started = Date.now();
    let driving = true;
    const agents = (async () => {
      while (driving) {
        await agentsRound(f, behaviour);
        await sleep(40);
      }
    })();
    try {
      while (await rollouts.advance(f.tenantId, f.clusterId)) await sleep(40);
    } finally {
      driving = false;
      await agents;
    }
    return Date.now() - started;
  }

  /** Three nodes on revision 1 (its rollout done), then revision 2 with its rollout created. */
  async function clusterAtRevisionTwo(opts: { unreachable?: string; maxUnavailable?: number } = {}): Promise<{ f: ClusterFixture; nodes: Node[] }> {
    const f = await ClusterFixture.create(ds, labSpec);
    // Enrolled out of name order: the rollout still goes by name.
    const nodes: Node[] = [];
    for (const name of ['controller-2', 'controller-3', 'controller-1']) {
      nodes.push(await f.node(name, { appliedRevision: 1, status: name === opts.unreachable ? NodeStatus.UNREACHABLE : NodeStatus.ONLINE }));
    }
    await f.newRevision();
    await rollouts.createForRevision(f.tenantId, f.clusterId, 1);
    await runRollout(f);
    await f.newRevision();
    await rollouts.createForRevision(f.tenantId, f.clusterId, 2, opts.maxUnavailable);
    return { f, nodes: nodes.sort((a, b) => a.name.localeCompare(b.name)) };
  }

  const commandsFor = (f: ClusterFixture, revision: number) => ds.getRepository(Command).find({ where: { tenantId: f.tenantId, revision }, order: { issuedAt: 'ASC' } });

  it('scale-out: the members take the revision first (their gate expects the joining node missing), the new node last; the reconciler holds it until its turn', async () => {
    const addresses = labLoopbackAddresses(4);
    let size = 3;
    const f = await ClusterFixture.create(ds, () => labClusterSpec({ addresses: addresses.slice(0, size), acknowledgedWarnings: ['EVEN_GALERA_MEMBERSHIP'] }));
    for (const name of ['controller-2', 'controller-3', 'controller-1']) await f.node(name, { appliedRevision: 1 });
    await f.newRevision();
    await rollouts.createForRevision(f.tenantId, f.clusterId, 1);
    await runRollout(f);

    size = 4;
    await f.node('controller-4', { appliedRevision: 0 });
    await f.newRevision();
    await rollouts.createForRevision(f.tenantId, f.clusterId, 2);
    // A fresh node of a running cluster is not sent the revision at once (as it is during bring-up).
    const held = await reconciler.reconcileCluster(f.tenantId, f.clusterId);
    expect(held.issued).toEqual([]);

    let joined = false;
    const missingFour: ComponentReport[] = [
      { component: 'pacemaker', state: 'COMPONENT_DEGRADED', summary: '3/4 nodes online, DC controller-1, quorate; controller-4 offline' },
      { component: 'galera', state: 'COMPONENT_DEGRADED', summary: 'cluster size 3 of 4' },
      { component: 'haproxy', state: 'COMPONENT_DEGRADED', summary: 'backend keystone: controller-4 DOWN' },
    ];
    const issuedBeforeJoin: string[] = [];
    await runRollout(f, {
      outcome: (node, revision) => {
        if (revision === 2) issuedBeforeJoin.push(node);
        if (node === 'controller-4') joined = true;
        return 'SUCCEEDED';
      },
      health: (node, applied) => {
        if (node === 'controller-4') return applied === 2 ? healthy : [{ component: 'pacemaker', state: 'COMPONENT_DOWN', summary: 'controller-4 is not a node of this cluster' }];
        return applied === 2 && !joined ? missingFour : healthy;
      },
    });

    const [r] = (await rollouts.list(f.tenantId, f.clusterId, { first: 1 })).items;
    expect(r).toMatchObject({ toRevision: 2, status: RolloutStatus.SUCCEEDED });
    const steps = await rollouts.steps(f.tenantId, r.id);
    expect(steps.map((s) => [s.nodeName, s.status, s.previousRevision])).toEqual([
      ['controller-1', RolloutStepStatus.SUCCEEDED, 1],
      ['controller-2', RolloutStepStatus.SUCCEEDED, 1],
      ['controller-3', RolloutStepStatus.SUCCEEDED, 1],
      ['controller-4', RolloutStepStatus.SUCCEEDED, 0],
    ]);
    expect(issuedBeforeJoin).toEqual(['controller-1', 'controller-2', 'controller-3', 'controller-4']);
    const four = steps[3];
    expect((four.startedAt as Date).getTime()).toBeGreaterThanOrEqual((steps[2].finishedAt as Date).getTime());
  });


  it('sends a new revision to one node at a time, by name, each only after the one before reported it applied and healthy', async () => {
    const { f, nodes } = await clusterAtRevisionTwo();
    // Before the driver runs, the reconciler holds every node: the rollout decides who gets revision 2.
    const held = await reconciler.reconcileCluster(f.tenantId, f.clusterId);
    expect(held.issued).toEqual([]);
    expect(held.decisions.every((d) => d.action === 'skip' && d.reason === 'HELD_BY_POLICY')).toBe(true);

    const ms = await runRollout(f);

    const r = (await rollouts.active(f.tenantId, f.clusterId)) ?? (await rollouts.list(f.tenantId, f.clusterId, { first: 1 })).items[0];
    expect(r).toMatchObject({ toRevision: 2, fromRevision: 1, status: RolloutStatus.SUCCEEDED, maxUnavailable: 1 });
    const steps = await rollouts.steps(f.tenantId, r.id);
    expect(steps.map((s) => [s.nodeName, s.status, s.previousRevision])).toEqual([
      ['controller-1', RolloutStepStatus.SUCCEEDED, 1],
      ['controller-2', RolloutStepStatus.SUCCEEDED, 1],
      ['controller-3', RolloutStepStatus.SUCCEEDED, 1],
    ]);
    // Each node started only after the one before had finished (applied and passed the gate).
    for (let i = 1; i < steps.length; i++) expect(steps[i].startedAt?.getTime()).toBeGreaterThanOrEqual(steps[i - 1].finishedAt?.getTime() ?? Infinity);
    // One command per node for revision 2, issued in name order, each after the previous node's health gate.
    const cmds = await commandsFor(f, 2);
    expect(cmds.map((c) => nodes.find((n) => n.id === c.nodeId)?.name)).toEqual(['controller-1', 'controller-2', 'controller-3']);
    expect(cmds[1].issuedAt.getTime()).toBeGreaterThanOrEqual(steps[0].finishedAt?.getTime() ?? Infinity);
    expect(cmds[2].issuedAt.getTime()).toBeGreaterThanOrEqual(steps[1].finishedAt?.getTime() ?? Infinity);
    expect((await ds.getRepository(Node).findBy({ tenantId: f.tenantId })).map((n) => n.appliedRevision)).toEqual([2, 2, 2]);

    const audit = await ds.getRepository(AuditEvent).findBy({ tenantId: f.tenantId, targetId: r.id });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['rollout.created', 'rollout.started', 'rollout.step.changed', 'rollout.finished']));
    console.log(`3-node rollout (grace 100 ms, poll 40 ms): ${ms} ms, per node ≈ ${Math.round(ms / 3)} ms`);
  });

  it('updates maxUnavailable nodes at once: with 2, the first two start together and the third waits for one of them', async () => {
    const { f } = await clusterAtRevisionTwo({ maxUnavailable: 2 });
    await runRollout(f);
    const [r] = (await rollouts.list(f.tenantId, f.clusterId, { first: 1 })).items;
    expect(r).toMatchObject({ status: RolloutStatus.SUCCEEDED, maxUnavailable: 2 });
    const [s1, s2, s3] = await rollouts.steps(f.tenantId, r.id);
    expect(s2.startedAt?.getTime()).toBe(s1.startedAt?.getTime());
    expect(s3.startedAt?.getTime()).toBeGreaterThanOrEqual(Math.min(s1.finishedAt?.getTime() ?? Infinity, s2.finishedAt?.getTime() ?? Infinity));
  });

  it('rolls a node whose agent reports FAILED back to its previous revision and stops: the other nodes receive nothing', async () => {
    const { f, nodes } = await clusterAtRevisionTwo();
    await runRollout(f, { outcome: (node, rev) => (node === 'controller-1' && rev === 2 ? 'FAILED' : 'SUCCEEDED') });

    const [r] = (await rollouts.list(f.tenantId, f.clusterId, { first: 1 })).items;
    expect(r.status).toBe(RolloutStatus.FAILED);
    expect(r.reason).toBe('controller-1: command FAILED DRIVER_FAILED: haproxy -c: cannot bind socket');
    const steps = await rollouts.steps(f.tenantId, r.id);
    expect(steps.map((s) => [s.nodeName, s.status])).toEqual([
      ['controller-1', RolloutStepStatus.ROLLED_BACK],
      ['controller-2', RolloutStepStatus.SKIPPED],
      ['controller-3', RolloutStepStatus.SKIPPED],
    ]);
    // The rollback is an apply_revision of revision 1 to controller-1, after the failed one.
    const rollback = await ds.getRepository(Command).findOneByOrFail({ id: steps[0].rollbackCommandId as string });
    expect(rollback).toMatchObject({ nodeId: nodes[0].id, revision: 1, status: CommandStatus.SUCCEEDED, verb: 'apply_revision' });
    expect(rollback.params).toMatchObject({ revision: 1, nodeName: 'controller-1' });
    const rev2 = await commandsFor(f, 2);
    expect(rev2.map((c) => [c.nodeId, c.status])).toEqual([[nodes[0].id, CommandStatus.FAILED]]);
    expect(rollback.generation).toBeGreaterThan(rev2[0].generation);

    // The reconciler does not resend revision 2 anywhere: the failed rollout pins the nodes.
    const after = await reconciler.reconcileCluster(f.tenantId, f.clusterId);
    expect(after.issued).toEqual([]);
    expect((await reconciler.reconcileNode(f.tenantId, nodes[1].id)).issued).toEqual([]);
    expect((await ds.getRepository(Node).findBy({ tenantId: f.tenantId })).map((n) => n.appliedRevision)).toEqual([1, 1, 1]);

    // retryRollout: a new rollout of revision 2; this time the agent succeeds.
    const retried = await rollouts.retry(f.tenantId, r.id, SYSTEM_ACTOR);
    expect(retried).toMatchObject({ status: RolloutStatus.PENDING, toRevision: 2 });
    await runRollout(f);
    expect((await rollouts.findById(f.tenantId, retried.id))?.status).toBe(RolloutStatus.SUCCEEDED);
    await expect(rollouts.retry(f.tenantId, r.id, SYSTEM_ACTOR)).rejects.toMatchObject({ code: 'NOT_RETRYABLE' });
  });

  it('rolls back a node that applied the revision but stays unhealthy past the health gate', async () => {
    const { f } = await clusterAtRevisionTwo();
    const down: ComponentReport[] = [{ component: 'haproxy', state: 'COMPONENT_DOWN', summary: 'backend keystone: no server up' }, healthy[1]];
    await runRollout(f, { health: (node, rev) => (node === 'controller-1' && rev === 2 ? down : healthy) });

    const [r] = (await rollouts.list(f.tenantId, f.clusterId, { first: 1 })).items;
    expect(r.status).toBe(RolloutStatus.FAILED);
    expect(r.reason).toMatch(/^controller-1: health gate timed out after 1500 ms: unhealthy: haproxy COMPONENT_DOWN: backend keystone: no server up/);
    expect((await rollouts.steps(f.tenantId, r.id)).map((s) => s.status)).toEqual([RolloutStepStatus.ROLLED_BACK, RolloutStepStatus.SKIPPED, RolloutStepStatus.SKIPPED]);
    expect((await commandsFor(f, 2)).length).toBe(1);
    expect((await ds.getRepository(Node).findOneByOrFail({ tenantId: f.tenantId, name: 'controller-1' })).appliedRevision).toBe(1);
  });

  it('skips an unreachable node with the reason, and the reconciler updates it once the rollout has succeeded', async () => {
    const { f, nodes } = await clusterAtRevisionTwo({ unreachable: 'controller-2' });
    await runRollout(f);
    const [r] = (await rollouts.list(f.tenantId, f.clusterId, { first: 1 })).items;
    expect(r.status).toBe(RolloutStatus.SUCCEEDED);
    const steps = await rollouts.steps(f.tenantId, r.id);
    expect(steps[1]).toMatchObject({ nodeName: 'controller-2', status: RolloutStepStatus.SKIPPED, reason: expect.stringMatching(/^node unreachable/) });
    // Back (its Hello reconciles it): released, since the rollout succeeded.
    const back = await reconciler.reconcileNode(f.tenantId, nodes[1].id);
    expect(back.issued.map((c) => [c.nodeName, c.revision])).toEqual([['controller-2', 2]]);
  });

  it('lets a newer revision supersede a running rollout at a safe point: the node in flight finishes, later nodes wait for the new rollout', async () => {
    const { f } = await clusterAtRevisionTwo();
    await rollouts.advance(f.tenantId, f.clusterId); // controller-1 gets revision 2
    await f.newRevision();
    await rollouts.createForRevision(f.tenantId, f.clusterId, 3);
    await runRollout(f);
    const [r3, r2] = (await rollouts.list(f.tenantId, f.clusterId, { first: 2 })).items;
    expect(r2).toMatchObject({ toRevision: 2, status: RolloutStatus.SUPERSEDED, reason: 'superseded by revision 3' });
    expect((await rollouts.steps(f.tenantId, r2.id)).map((s) => s.status)).toEqual([RolloutStepStatus.SUCCEEDED, RolloutStepStatus.SKIPPED, RolloutStepStatus.SKIPPED]);
    expect(r3).toMatchObject({ toRevision: 3, status: RolloutStatus.SUCCEEDED });
    expect((await commandsFor(f, 2)).length).toBe(1);
    expect((await ds.getRepository(Node).findBy({ tenantId: f.tenantId })).map((n) => n.appliedRevision)).toEqual([3, 3, 3]);
  });

  it('abortRollout rolls back the node in flight and leaves the rest: the rollout ends ROLLED_BACK', async () => {
    const { f } = await clusterAtRevisionTwo();
    await rollouts.advance(f.tenantId, f.clusterId);
    const active = (await rollouts.active(f.tenantId, f.clusterId)) as Rollout;
    await rollouts.abort(f.tenantId, active.id, SYSTEM_ACTOR);
    await runRollout(f);
    const r = (await rollouts.findById(f.tenantId, active.id)) as Rollout;
    expect(r).toMatchObject({ status: RolloutStatus.ROLLED_BACK, reason: 'aborted by an operator' });
    expect((await rollouts.steps(f.tenantId, r.id)).map((s) => [s.status, s.reason])).toEqual([
      [RolloutStepStatus.ROLLED_BACK, 'aborted by an operator'],
      [RolloutStepStatus.SKIPPED, 'rollout ROLLED_BACK'],
      [RolloutStepStatus.SKIPPED, 'rollout ROLLED_BACK'],
    ]);
    await expect(rollouts.abort(f.tenantId, r.id, SYSTEM_ACTOR)).rejects.toMatchObject({ code: 'NOT_ACTIVE' });
  });

  it("publishes every step change to the rollout's tenant only", async () => {
    const { f } = await clusterAtRevisionTwo();
    const other = await ClusterFixture.create(ds, labSpec);
    const mine = await subscriber.subscribe(f.tenantId, f.clusterId);
    // Another tenant asking for this cluster id listens on its own tenant's channel.
    const theirs = await subscriber.subscribe(other.tenantId, f.clusterId);
    await runRollout(f);
    const seen: RolloutProgressEvent[] = [];
    for (;;) {
      const next = await Promise.race([mine.next(), sleep(300).then(() => undefined)]);
      if (!next || next.done) break;
      seen.push(next.value);
      if (next.value.rolloutStatus === RolloutStatus.SUCCEEDED && !next.value.step) break;
    }
    expect(seen.filter((e) => e.step).map((e) => `${e.step?.nodeName}:${e.step?.status}`)).toEqual([
      'controller-1:APPLYING',
      'controller-1:VERIFYING',
      'controller-1:SUCCEEDED',
      'controller-2:APPLYING',
      'controller-2:VERIFYING',
      'controller-2:SUCCEEDED',
      'controller-3:APPLYING',
      'controller-3:VERIFYING',
      'controller-3:SUCCEEDED',
    ]);
    expect(await Promise.race([theirs.next(), sleep(300).then(() => 'nothing')])).toBe('nothing');
    await mine.return?.();
    await theirs.return?.();
  });
});
