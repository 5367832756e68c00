import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Client } from 'pg';
import { commandSubject, signCommand, type CommandEnvelope, type SignedCommand } from '@triad/protocol';
import { startControlPlane, startLocalAgent, startTsProcess, waitFor, type ControlPlane, type GraphQLClient, type TriadProcess } from '@triad/testing';

/**
 * The walking skeleton, end to end: api, worker and two agents as real processes, each agent with
 * its own real haproxy; real PostgreSQL, Redis and an operator-mode nats-server.
 */
jest.setTimeout(180_000);

/** The value, or a failed test saying what was missing. */
function present<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`expected ${what}`);
  return value;
}

describe('walking skeleton', () => {
  const HEARTBEAT_MS = 500;
  const SERVICE_PORT = 15000 + Math.floor(Math.random() * 2000);
  // Two controllers on loopback: backends (stand-in OpenStack APIs) on the internal addresses,
  // each agent's haproxy bound on its own address instead of the VIP (one host, two haproxies).
  const nodes = [
    { name: 'controller-1', internal: '127.0.2.1', haproxy: '127.0.1.1' },
    { name: 'controller-2', internal: '127.0.2.2', haproxy: '127.0.1.2' },
  ];

  let cp: ControlPlane;
  let owner: GraphQLClient;
  let pg: Client;
  let clusterId: string;
  let tenantId: string;
  const agents = new Map<string, TriadProcess>();
  const standins: TriadProcess[] = [];

  const spec = (services: { name: string; port: number }[]) => ({
    apiVersion: 'triad.io/v1',
    metadata: { name: 'e2e' },
    topology: {
      mode: 'ACTIVE_PASSIVE',
      nodes: nodes.map((n) => ({ name: n.name, managementAddress: n.internal, internalAddress: n.internal })),
      networks: { public: { cidr: '127.0.0.0/8' }, internal: { cidr: '127.0.0.0/8', vip: '127.0.3.100' } },
    },
    services: services.map((s, i) => ({ name: s.name, vip: `127.0.3.${i + 1}`, port: s.port })),
    galera: { arbitrator: { address: '127.0.2.9' } },
    rabbitmq: { erlangCookie: { secretRef: 'rabbitmq-erlang-cookie' } },
    pacemaker: { properties: { stonithEnabled: false } },
    acknowledgedWarnings: ['STONITH_DISABLED'],
  });

  type NodeView = { id: string; name: string; status: string; appliedRevision: number; agentVersion: string | null; lastHeartbeatAt: string | null };
  const clusterNodes = async (): Promise<NodeView[]> => {
    const d = await owner.ok<{ cluster: { nodes: { edges: { node: NodeView }[] } } }>(
      `query($id: ID!) { cluster(id: $id) { nodes(first: 10) { edges { node { id name status appliedRevision agentVersion lastHeartbeatAt } } } } }`,
      { id: clusterId },
    );
    return d.cluster.nodes.edges.map((e) => e.node);
  };
  const nodeNamed = async (name: string) => (await clusterNodes()).find((n) => n.name === name);

  const currentRevision = async () =>
    (await owner.ok<{ cluster: { currentRevision: number } }>(`query($id: ID!) { cluster(id: $id) { currentRevision } }`, { id: clusterId })).cluster.currentRevision;

  const updateSpec = (client: GraphQLClient, s: unknown, expectedRevision: number) =>
    client.request<{ updateClusterSpec: { revision: { revision: number } } }>(
      `mutation($id: ID!, $spec: JSON!, $rev: Int!) { updateClusterSpec(clusterId: $id, spec: $spec, expectedRevision: $rev) { revision { revision } } }`,
      { id: clusterId, spec: s, rev: expectedRevision },
    );

  const enrollmentToken = async (maxUses: number) =>
    (
      await owner.ok<{ createEnrollmentToken: { secret: string; commandKeySha256: string; token: { id: string } } }>(
        `mutation($c: ID!, $m: Int!) { createEnrollmentToken(clusterId: $c, name: "e2e", maxUses: $m, ttlSeconds: 600) { secret commandKeySha256 token { id } } }`,
        { c: clusterId, m: maxUses },
      )
    ).createEnrollmentToken;

  /** GET through one node's haproxy; resolves with the backend's JSON answer. */
  const through = (haproxyAddress: string, port: number) =>
    new Promise<{ service: string; node: string }>((resolve, reject) => {
      const req = httpRequest({ host: haproxyAddress, port, path: '/v3', timeout: 2000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    });

  const startAgent = (name: string, token?: string, env?: Record<string, string>) => {
    const n = nodes.find((x) => x.name === name);
    const p = startLocalAgent(cp, { name, token, haproxyBindAddress: n ? n.haproxy : '127.0.1.9', env });
    agents.set(name, p);
    return p;
  };

  beforeAll(async () => {
    cp = await startControlPlane({ heartbeatIntervalMs: HEARTBEAT_MS });
    pg = new Client({ connectionString: cp.db.url });
    await pg.connect();
    owner = cp.client(await cp.bootstrapTenant('acme'));
    tenantId = present((await pg.query<{ id: string }>(`select id from tenants where slug = 'acme'`)).rows[0], 'tenant acme').id;
    // Stand-in OpenStack APIs on each controller's internal address, for every port the tests use.
    for (const n of nodes) {
      const listen = [SERVICE_PORT, SERVICE_PORT + 1].flatMap((port) => ['--listen', `svc-${port}=${n.internal}:${port}`]);
      standins.push(startTsProcess({ name: `standin-${n.name}`, entry: 'tools/lab/standin-service.ts', args: ['--node', n.name, ...listen], env: {}, logFile: join(cp.dir, `standin-${n.name}.log`) }));
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled([...agents.values()].map((a) => a.stop('SIGTERM', 15_000)));
    await Promise.allSettled(standins.map((s) => s.stop()));
    await pg?.end();
    await cp?.stop();
  }, 120_000);

  it('enrolls two agents, applies a spec to both haproxies, and shows the applied revision', async () => {
    const cloud = await owner.ok<{ createCloud: { id: string } }>(`mutation { createCloud(name: "eu-west") { id } }`);
    const cluster = await owner.ok<{ createCluster: { id: string } }>(`mutation($c: ID!) { createCluster(cloudId: $c, name: "prod") { id } }`, {
      c: cloud.createCloud.id,
    });
    clusterId = cluster.createCluster.id;

    const { secret, commandKeySha256 } = await enrollmentToken(2);
    // The agents pin the command-signing key the control plane announced with the token.
    for (const n of nodes) startAgent(n.name, secret, { TRIAD_COMMAND_KEY_SHA256: commandKeySha256 });
    await waitFor('both nodes ONLINE', async () => {
      const ns = await clusterNodes();
      return ns.length === 2 && ns.every((n) => n.status === 'ONLINE');
    }, 60_000, 250);

    const t0 = Date.now();
    const r = await updateSpec(owner, spec([{ name: 'keystone', port: SERVICE_PORT }]), 0);
    expect(r.errors).toBeUndefined();
    expect(r.data?.updateClusterSpec.revision.revision).toBe(1);

    await waitFor('revision 1 applied on both nodes', async () => (await clusterNodes()).every((n) => n.appliedRevision === 1), 60_000, 100);
    process.stdout.write(`updateClusterSpec → applied on both nodes: ${Date.now() - t0} ms\n`);

    for (const n of nodes) {
      const answer = await waitFor(`keystone through ${n.name}'s haproxy`, () => through(n.haproxy, SERVICE_PORT).catch(() => undefined), 20_000, 200);
      expect(answer.service).toBe(`svc-${SERVICE_PORT}`);
    }
    const ns = await clusterNodes();
    expect(ns.map((n) => n.agentVersion)).toEqual([expect.any(String), expect.any(String)]);
    const commands = await owner.ok<{ commands: { edges: { node: { status: string; revision: number } }[] } }>(
      `query($c: ID!) { commands(clusterId: $c, first: 10) { edges { node { status revision } } } }`,
      { c: clusterId },
    );
    expect(commands.commands.edges.map((e) => e.node)).toEqual([
      { status: 'SUCCEEDED', revision: 1 },
      { status: 'SUCCEEDED', revision: 1 },
    ]);
  });

  it('refuses a stale expectedRevision with CONFLICT and writes nothing', async () => {
    const r = await updateSpec(owner, spec([{ name: 'keystone', port: SERVICE_PORT }, { name: 'glance-api', port: SERVICE_PORT + 1 }]), 0);
    expect(r.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(r.errors?.[0]?.message).toMatch(/revision 1/);
    expect(await currentRevision()).toBe(1);
  });

  it('refuses an invalid spec with BAD_USER_INPUT naming the field, and writes nothing', async () => {
    const bad = spec([{ name: 'keystone', port: SERVICE_PORT }]);
    present(bad.services[0], 'a service').vip = '10.1.2.300';
    const r = await updateSpec(owner, bad, 1);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(r.errors?.[0]?.extensions)).toContain('services[0].vip');
    expect(await currentRevision()).toBe(1);
  });

  it("answers NOT_FOUND for another tenant's cluster and FORBIDDEN for a viewer's mutation", async () => {
    const other = cp.client(await cp.bootstrapTenant('globex'));
    const peek = await other.request(`query($id: ID!) { cluster(id: $id) { name } }`, { id: clusterId });
    expect(peek.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const write = await updateSpec(other, spec([{ name: 'keystone', port: SERVICE_PORT }]), 1);
    expect(write.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const viewer = await owner.ok<{ createApiToken: { secret: string } }>(`mutation { createApiToken(name: "ro", role: VIEWER) { secret } }`);
    const asViewer = cp.client(viewer.createApiToken.secret);
    const denied = await updateSpec(asViewer, spec([{ name: 'keystone', port: SERVICE_PORT }]), 1);
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await asViewer.ok<{ cluster: { name: string } }>(`query($id: ID!) { cluster(id: $id) { name } }`, { id: clusterId })).cluster.name).toBe('prod');
    expect(await currentRevision()).toBe(1);
  });

  it('refuses exhausted, revoked, expired and unknown enrollment tokens; the agent exits non-zero saying which', async () => {
    const enrollWith = async (name: string, token: string) => {
      const p = startAgent(name, token);
      const code = await p.exited;
      return { code, log: p.log() };
    };
    const used = await enrollmentToken(1);
    const first = startAgent('controller-3', used.secret);
    await waitFor('controller-3 enrolled', async () => (await nodeNamed('controller-3'))?.status === 'ONLINE', 60_000, 250);
    await first.stop();

    const exhausted = await enrollWith('controller-4', used.secret);
    expect(exhausted.code).not.toBe(0);
    expect(exhausted.log).toMatch(/exhausted|used up|no uses left/i);

    const revoked = await enrollmentToken(1);
    await owner.ok(`mutation($id: ID!) { revokeEnrollmentToken(id: $id) { revokedAt } }`, { id: revoked.token.id });
    const r = await enrollWith('controller-5', revoked.secret);
    expect(r.code).not.toBe(0);
    expect(r.log).toMatch(/revoked/i);

    const expired = await enrollmentToken(1);
    // Time passing, without waiting for it: the token's expiry moves into the past.
    await pg.query(`update enrollment_tokens set expires_at = now() - interval '1 second' where id = $1`, [expired.token.id]);
    const e = await enrollWith('controller-6', expired.secret);
    expect(e.code).not.toBe(0);
    expect(e.log).toMatch(/expired/i);

    const u = await enrollWith('controller-7', 'triad_enr_' + 'x'.repeat(43));
    expect(u.code).not.toBe(0);
    expect(u.log).toMatch(/unknown|not recogni[sz]ed/i);

    // A control plane whose signing key is not the pinned one (a man in the middle) is not trusted.
    const pinned = await enrollmentToken(1);
    const wrongPin = startAgent('controller-8', pinned.secret, { TRIAD_COMMAND_KEY_SHA256: 'f'.repeat(64) });
    expect(await wrongPin.exited).not.toBe(0);
    expect(wrongPin.log()).toMatch(/is not the one TRIAD_COMMAND_KEY_SHA256 pins/);
    expect(existsSync(join(cp.dir, 'agents', 'controller-8', 'state', 'identity.json')) && readFileSync(join(cp.dir, 'agents', 'controller-8', 'state', 'identity.json'), 'utf8').includes('commandSigningPublicKeyPem')).toBe(false);

    // controller-8 exists server-side (it enrolled) but refused to trust the answer.
    expect((await clusterNodes()).map((n) => n.name).sort()).toEqual(['controller-1', 'controller-2', 'controller-3', 'controller-8']);
  });

  describe('commands that must be refused', () => {
    let nc: NatsConnection;
    const node1 = () => nodeNamed('controller-1').then((n) => present(n, 'node controller-1'));

    beforeAll(async () => {
      nc = await connect({ servers: cp.nats.url, authenticator: credsAuthenticator(readFileSync(present(cp.env.NATS_CREDS_FILE, 'control-plane NATS creds'))) });
    });
    afterAll(async () => nc?.drain());

    const publish = async (nodeId: string, wire: SignedCommand) => {
      await jetstream(nc).publish(commandSubject(tenantId, nodeId), JSON.stringify(wire));
    };
    const envelope = async (overrides: Partial<CommandEnvelope>): Promise<CommandEnvelope> => {
      const n = await node1();
      return {
        v: 1,
        id: randomUUID(),
        tenantId,
        nodeId: n.id,
        generation: 1_000_000,
        issuedAt: new Date().toISOString(),
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        verb: 'apply_revision',
        params: { clusterId, revision: 1, nodeName: 'controller-1', spec: {}, artifacts: [] },
        ...overrides,
      };
    };
    const refusalReported = (commandId: string, reason: string) =>
      waitFor(`refusal ${reason} of ${commandId} reported`, async () => {
        const r = await pg.query(`select 1 from audit_events where action = 'command.refused' and target_id = $1 and detail->>'reason' = $2`, [commandId, reason]);
        return r.rowCount === 1;
      }, 20_000, 200);

    it('refuses a forged, an expired, a lower-generation and a replayed command, reports each, and changes nothing', async () => {
      const n = await node1();
      const realKey = createPrivateKey(cp.signingKeyPem);
      const cfgBefore = readFileSync(join(cp.dir, 'agents', 'controller-1', 'haproxy.cfg'), 'utf8');

      const forged = await envelope({});
      await publish(n.id, signCommand(forged, generateKeyPairSync('ed25519').privateKey, 'cp-1'));
      const expired = await envelope({ expiresAt: new Date(Date.now() - 1000).toISOString() });
      await publish(n.id, signCommand(expired, realKey, 'cp-1'));
      const lower = await envelope({ generation: 1 });
      await publish(n.id, signCommand(lower, realKey, 'cp-1'));
      // A replay: the exact signed bytes of the command the node already ran.
      const original = await pg.query<{ payload: SignedCommand; aggregate_id: string }>(
        `select payload, aggregate_id from outbox where kind = 'command.publish' and aggregate_id in (select id::text from commands where node_id = $1) order by id limit 1`,
        [n.id],
      );
      const ran = present(original.rows[0], 'the command the node ran');
      await publish(n.id, ran.payload);

      await refusalReported(expired.id, 'EXPIRED');
      await refusalReported(lower.id, 'STALE_GENERATION');
      await refusalReported(ran.aggregate_id, 'REPLAYED');
      // A forged command's id cannot be trusted, but its refusal is still reported.
      await waitFor('forged command refusal reported', async () => {
        const r = await pg.query(`select 1 from audit_events where action = 'command.refused' and detail->>'reason' = 'BAD_SIGNATURE' and actor_id = $1`, [n.id]);
        return (r.rowCount ?? 0) >= 1;
      }, 20_000, 200);

      expect(readFileSync(join(cp.dir, 'agents', 'controller-1', 'haproxy.cfg'), 'utf8')).toBe(cfgBefore);
      expect((await node1()).appliedRevision).toBe(1);
    });
  });

  it('converges after NATS restarts: a revision made while NATS is down is applied when it is back', async () => {
    await cp.nats.down();
    const r = await updateSpec(owner, spec([{ name: 'keystone', port: SERVICE_PORT }, { name: 'glance-api', port: SERVICE_PORT + 1 }]), 1);
    expect(r.errors).toBeUndefined();
    await new Promise((res) => setTimeout(res, 2000));
    await cp.nats.up();
    await waitFor('revision 2 applied on both nodes', async () => {
      const ns = (await clusterNodes()).filter((n) => nodes.some((x) => x.name === n.name));
      return ns.every((n) => n.appliedRevision === 2);
    }, 90_000, 250);
    for (const n of nodes) {
      const answer = await waitFor(`glance through ${n.name}`, () => through(n.haproxy, SERVICE_PORT + 1).catch(() => undefined), 20_000, 200);
      expect(answer.service).toBe(`svc-${SERVICE_PORT + 1}`);
    }
  });

  it('marks a killed agent UNREACHABLE within 3 heartbeat intervals + 1 s', async () => {
    const agent = present(agents.get('controller-2'), 'agent controller-2');
    agent.child.kill('SIGKILL');
    const t0 = Date.now();
    await agent.exited;
    await waitFor('controller-2 UNREACHABLE', async () => (await nodeNamed('controller-2'))?.status === 'UNREACHABLE', 3 * HEARTBEAT_MS + 1000 + 1000, 50);
    const detected = Date.now() - t0;
    process.stdout.write(`killed agent → UNREACHABLE in ${detected} ms (interval ${HEARTBEAT_MS} ms)\n`);
    expect(detected).toBeLessThanOrEqual(3 * HEARTBEAT_MS + 1000);
    // It restarts from its persisted identity (no token) and is ONLINE again.
    startAgent('controller-2');
    await waitFor('controller-2 ONLINE again', async () => (await nodeNamed('controller-2'))?.status === 'ONLINE', 60_000, 250);
  });
});
