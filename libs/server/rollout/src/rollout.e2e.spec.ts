import { jetstream, type Consumer } from '@nats-io/jetstream';
import { connect, jwtAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { publicKeyFromPem, verifyCommand, type AgentServiceClient, type ComponentHealth } from '@triad/protocol';
import { agentServiceClient, enrollSimulatedAgent, labClusterSpec, labLoopbackAddresses, SimulatedAgentStream, GraphQLSubscriber, startControlPlane, waitFor, type ControlPlane, type EnrolledIdentity, type GraphQLClient } from '@triad/testing';

jest.setTimeout(240_000);

const HEARTBEAT_MS = 300;
const healthy: ComponentHealth[] = [{ component: 'haproxy', state: 'COMPONENT_OK', summary: '', detailJson: '{}' }];

/**
 * An agent that speaks the real protocol (gRPC stream, its own NATS consumer with its JWT, signed
 * commands) and does what the test says with each revision instead of running drivers.
 */
class ScriptedAgent {
  appliedRevision = 0;
  readonly received: Array<{ revision: number; at: number }> = [];
  private running = true;
  private seq = 1;
  private loops: Promise<void>[] = [];

  private constructor(
    readonly name: string,
    private readonly identity: EnrolledIdentity,
    private readonly stream: SimulatedAgentStream,
    private readonly nc: NatsConnection,
    private readonly consumer: Consumer,
    private readonly fail: (revision: number) => boolean,
  ) {}

  static async start(client: AgentServiceClient, token: string, name: string, fail: (revision: number) => boolean = () => false): Promise<ScriptedAgent> {
    const identity = await enrollSimulatedAgent(client, token, name);
    const nats = identity.response.nats;
    const nc = await connect({ servers: nats?.servers, authenticator: jwtAuthenticator(nats?.userJwt as string, new TextEncoder().encode(identity.natsSeed)), inboxPrefix: nats?.inboxPrefix });
    const consumer = await jetstream(nc).consumers.get(nats?.stream as string, nats?.consumer as string);
    const stream = SimulatedAgentStream.open(client, identity);
    await stream.hello(0);
    const agent = new ScriptedAgent(name, identity, stream, nc, consumer, fail);
    agent.loops = [agent.heartbeats(), agent.commands()];
    return agent;
  }

  private async heartbeats(): Promise<void> {
    while (this.running) {
      await this.stream.heartbeat(this.seq++, { appliedRevision: this.appliedRevision, components: healthy }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS));
    }
  }

  private async commands(): Promise<void> {
    const key = publicKeyFromPem(this.identity.response.commandSigningPublicKeyPem);
    while (this.running) {
      const msg = await this.consumer.next({ expires: 1_000 }).catch(() => null);
      if (!msg) continue;
      msg.ack();
      const cmd = verifyCommand(msg.json(), key, { tenantId: this.identity.response.tenantId, nodeId: this.identity.nodeId, now: new Date() });
      if (cmd.verb !== 'apply_revision') continue;
      const revision = cmd.params.revision;
      this.received.push({ revision, at: Date.now() });
      const base = { commandId: cmd.id, message: '', revision, generation: cmd.generation, artifacts: [], reason: '' };
      await this.stream.send({ commandUpdate: { ...base, state: 'COMMAND_RECEIVED', atMs: Date.now() } });
      await this.stream.send({ commandUpdate: { ...base, state: 'COMMAND_RUNNING', atMs: Date.now() } });
      if (this.fail(revision)) {
        await this.stream.send({ commandUpdate: { ...base, state: 'COMMAND_FAILED', reason: 'CHECK_FAILED', message: 'haproxy -c: cannot bind 127.0.0.1:1', atMs: Date.now() } });
      } else {
        this.appliedRevision = revision;
        await this.stream.send({ commandUpdate: { ...base, state: 'COMMAND_SUCCEEDED', atMs: Date.now() } });
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled(this.loops);
    this.stream.close();
    await this.nc.close();
  }
}

const PROGRESS = 'subscription($c: ID!) { rolloutProgress(clusterId: $c) { rolloutId rolloutStatus toRevision step { nodeName order status reason } } }';

describe('rollout end to end (api + worker processes, NATS, scripted agents, websocket subscription)', () => {
  let cp: ControlPlane;
  let owner: GraphQLClient;
  let ownerToken: string;
  let otherToken: string;
  let client: AgentServiceClient;
  let clusterId: string;
  let agents: ScriptedAgent[] = [];
  const spec = labClusterSpec({ addresses: labLoopbackAddresses(3) });

  beforeAll(async () => {
    cp = await startControlPlane({
      heartbeatIntervalMs: HEARTBEAT_MS,
      logLevel: 'info',
      env: { ROLLOUT_HEALTH_GRACE_MS: '300', ROLLOUT_HEALTH_TIMEOUT_MS: '10000', ROLLOUT_POLL_INTERVAL_MS: '100', ROLLOUT_SWEEP_INTERVAL_MS: '1000' },
    });
    ownerToken = await cp.bootstrapTenant('rollout-e2e');
    owner = cp.client(ownerToken);
    otherToken = await cp.bootstrapTenant('rollout-e2e-other');
    client = agentServiceClient(cp.grpcAddress, cp.grpcCredentials());
    const { createCloud } = await owner.ok<{ createCloud: { id: string } }>('mutation { createCloud(name: "region-1") { id } }');
    ({
      createCluster: { id: clusterId },
    } = await owner.ok<{ createCluster: { id: string } }>('mutation($c: ID!) { createCluster(cloudId: $c, name: "overcloud") { id } }', { c: createCloud.id }));
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    client?.close();
    await cp?.stop();
  });

  const updateSpec = async (expectedRevision: number) =>
    (await owner.ok<{ updateClusterSpec: { revision: { revision: number } } }>('mutation($id: ID!, $spec: JSON!, $rev: Int!) { updateClusterSpec(clusterId: $id, spec: $spec, expectedRevision: $rev) { revision { revision } } }', { id: clusterId, spec, rev: expectedRevision }))
      .updateClusterSpec.revision.revision;

  type RolloutView = { id: string; status: string; toRevision: number; reason: string | null; steps: Array<{ nodeName: string; status: string; reason: string | null; startedAt: string | null; finishedAt: string | null }> };
  const latestRollout = async () =>
    (await owner.ok<{ cluster: { rollouts: { edges: Array<{ node: RolloutView }> } } }>(
      'query($id: ID!) { cluster(id: $id) { rollouts(first: 1) { edges { node { id status toRevision reason steps { nodeName status reason startedAt finishedAt } } } } } }',
      { id: clusterId },
    )).cluster.rollouts.edges[0]?.node;

  it('brings three fresh nodes to revision 1 at once, then rolls revision 2 out one node at a time, visible over a websocket subscription of that tenant only', async () => {
    const { createEnrollmentToken } = await owner.ok<{ createEnrollmentToken: { secret: string } }>('mutation($c: ID!) { createEnrollmentToken(clusterId: $c, name: "e2e", maxUses: 3) { secret } }', { c: clusterId });
    agents = [];
    for (const name of ['controller-3', 'controller-1', 'controller-2']) {
      agents.push(await ScriptedAgent.start(client, createEnrollmentToken.secret, name, (rev) => name === 'controller-1' && rev === 3));
    }
    agents.sort((a, b) => a.name.localeCompare(b.name));

    expect(await updateSpec(0)).toBe(1);
    await waitFor('revision 1 on every node', async () => agents.every((a) => a.appliedRevision === 1), 60_000, 100);
    await waitFor('rollout of revision 1 done', async () => (await latestRollout())?.status === 'SUCCEEDED', 30_000, 200);
    // Fresh nodes are not gated: revision 1 went to all three at once.
    expect((await latestRollout()).steps.map((s) => s.status)).toEqual(['SKIPPED', 'SKIPPED', 'SKIPPED']);

    const mine = await GraphQLSubscriber.open(cp.graphqlUrl, ownerToken, PROGRESS, { c: clusterId });
    const theirs = await GraphQLSubscriber.open(cp.graphqlUrl, otherToken, PROGRESS, { c: clusterId });
    try {
      const t0 = Date.now();
      expect(await updateSpec(1)).toBe(2);
      await waitFor('rollout of revision 2 done', async () => {
        const r = await latestRollout();
        return r?.toRevision === 2 && r.status === 'SUCCEEDED';
      }, 90_000, 100);
      const ms = Date.now() - t0;
      process.stdout.write(`revision 2 over 3 nodes (grace 300 ms, heartbeat ${HEARTBEAT_MS} ms): ${ms} ms, ≈ ${Math.round(ms / 3)} ms per node\n`);

      // Each node got revision 2 only after the node before it finished its step.
      const r = await latestRollout();
      expect(r.steps.map((s) => [s.nodeName, s.status])).toEqual([
        ['controller-1', 'SUCCEEDED'],
        ['controller-2', 'SUCCEEDED'],
        ['controller-3', 'SUCCEEDED'],
      ]);
      const got2 = agents.map((a) => a.received.find((x) => x.revision === 2)?.at as number);
      expect(got2[1]).toBeGreaterThanOrEqual(Date.parse(r.steps[0].finishedAt as string));
      expect(got2[2]).toBeGreaterThanOrEqual(Date.parse(r.steps[1].finishedAt as string));

      await waitFor('last progress event delivered', async () => mine.events.some((e) => (e.rolloutProgress as { rolloutStatus: string; step: unknown }).rolloutStatus === 'SUCCEEDED'), 5_000, 100);
      const steps = mine.events.map((e) => e.rolloutProgress as { toRevision: number; step: { nodeName: string; status: string } | null }).filter((e) => e.toRevision === 2 && e.step);
      expect(steps.map((e) => `${e.step?.nodeName}:${e.step?.status}`)).toEqual([
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
      // The other tenant was refused the cluster and received nothing.
      expect(theirs.events).toEqual([]);
      expect(JSON.stringify(theirs.errors)).toContain('NOT_FOUND');
    } finally {
      mine.close();
      theirs.close();
    }
  });

  it('rolls back the first node when its agent fails revision 3 and goes no further; the other nodes receive nothing', async () => {
    expect(await updateSpec(2)).toBe(3);
    await waitFor('rollout of revision 3 failed', async () => {
      const r = await latestRollout();
      return r?.toRevision === 3 && r.status === 'FAILED';
    }, 60_000, 200);
    const r = await latestRollout();
    expect(r.toRevision).toBe(3);
    expect(r.reason).toBe('controller-1: command FAILED CHECK_FAILED: haproxy -c: cannot bind 127.0.0.1:1');
    expect(r.steps.map((s) => [s.nodeName, s.status])).toEqual([
      ['controller-1', 'ROLLED_BACK'],
      ['controller-2', 'SKIPPED'],
      ['controller-3', 'SKIPPED'],
    ]);
    // controller-1 got 3, then the rollback (2); the others never saw 3, even after a reconcile sweep would have run.
    await waitFor('controller-1 back on 2', async () => agents[0].appliedRevision === 2 && agents[0].received.at(-1)?.revision === 2, 20_000, 100);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(agents[0].received.filter((x) => x.revision >= 2).map((x) => x.revision)).toEqual([2, 3, 2]);
    expect(agents[1].received.some((x) => x.revision === 3)).toBe(false);
    expect(agents[2].received.some((x) => x.revision === 3)).toBe(false);
  });
});
