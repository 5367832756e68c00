import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { startControlPlane, startLocalAgent, startTsProcess, waitFor, waitForRolloutEnd, type ControlPlane, type GraphQLClient, type TriadProcess } from '@triad/testing';

/**
 * Rollouts with real agents, each with its own real haproxy, and api + worker as processes:
 * adding a service goes out one node at a time; a service whose backends never answer fails the
 * health gate on the first node, which is rolled back, and the others are never sent it.
 */
jest.setTimeout(240_000);

describe('rollout with real agents and haproxy', () => {
  const HEARTBEAT_MS = 500;
  const GRACE_MS = 3_000;
  const SERVICE_PORT = 17000 + Math.floor(Math.random() * 2000);
  const nodes = [
    { name: 'controller-1', internal: '127.0.4.1', haproxy: '127.0.5.1' },
    { name: 'controller-2', internal: '127.0.4.2', haproxy: '127.0.5.2' },
    { name: 'controller-3', internal: '127.0.4.3', haproxy: '127.0.5.3' },
  ];

  let cp: ControlPlane;
  let owner: GraphQLClient;
  let clusterId: string;
  const agents: TriadProcess[] = [];
  const standins: TriadProcess[] = [];

  const spec = (services: { name: string; port: number }[]) => ({
    apiVersion: 'triad.io/v1',
    metadata: { name: 'rollout-e2e' },
    topology: {
      mode: 'ACTIVE_PASSIVE',
      nodes: nodes.map((n) => ({ name: n.name, managementAddress: n.internal, internalAddress: n.internal })),
      networks: { public: { cidr: '127.0.0.0/8' }, internal: { cidr: '127.0.0.0/8', vip: '127.0.6.100' } },
    },
    services: services.map((s, i) => ({ name: s.name, vip: `127.0.6.${i + 1}`, port: s.port })),
    rabbitmq: { erlangCookie: { secretRef: 'rabbitmq-erlang-cookie' } },
    pacemaker: { properties: { stonithEnabled: false } },
    acknowledgedWarnings: ['STONITH_DISABLED'],
  });
  const keystone = { name: 'keystone', port: SERVICE_PORT };
  const glance = { name: 'glance-api', port: SERVICE_PORT + 1 };
  // Nothing listens on this one: its haproxy backend goes DOWN, a new problem on the node.
  const nova = { name: 'nova-api', port: SERVICE_PORT + 2 };

  const updateSpec = async (services: { name: string; port: number }[], expectedRevision: number) =>
    (
      await owner.ok<{ updateClusterSpec: { revision: { revision: number } } }>(
        'mutation($id: ID!, $spec: JSON!, $rev: Int!) { updateClusterSpec(clusterId: $id, spec: $spec, expectedRevision: $rev) { revision { revision } } }',
        { id: clusterId, spec: spec(services), rev: expectedRevision },
      )
    ).updateClusterSpec.revision.revision;

  type NodeView = { id: string; name: string; status: string; appliedRevision: number };
  const clusterNodes = async () =>
    (await owner.ok<{ cluster: { nodes: { edges: { node: NodeView }[] } } }>('query($id: ID!) { cluster(id: $id) { nodes(first: 10) { edges { node { id name status appliedRevision } } } } }', { id: clusterId })).cluster.nodes.edges
      .map((e) => e.node)
      .sort((a, b) => a.name.localeCompare(b.name));

  const through = (address: string, port: number) =>
    new Promise<{ service: string; node: string }>((resolve, reject) => {
      const req = httpRequest({ host: address, port, path: '/', timeout: 2000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    });

  beforeAll(async () => {
    cp = await startControlPlane({
      heartbeatIntervalMs: HEARTBEAT_MS,
      logLevel: 'info',
      env: { ROLLOUT_HEALTH_GRACE_MS: String(GRACE_MS), ROLLOUT_HEALTH_TIMEOUT_MS: '10000', ROLLOUT_POLL_INTERVAL_MS: '200', ROLLOUT_SWEEP_INTERVAL_MS: '1000' },
    });
    owner = cp.client(await cp.bootstrapTenant('rollout-lab'));
    for (const n of nodes) {
      const listen = [keystone, glance].flatMap((s) => ['--listen', `${s.name}=${n.internal}:${s.port}`]);
      standins.push(startTsProcess({ name: `standin-${n.name}`, entry: 'tools/lab/standin-service.ts', args: ['--node', n.name, ...listen], env: {}, logFile: join(cp.dir, `standin-${n.name}.log`) }));
    }
    const cloud = await owner.ok<{ createCloud: { id: string } }>('mutation { createCloud(name: "lab") { id } }');
    clusterId = (await owner.ok<{ createCluster: { id: string } }>('mutation($c: ID!) { createCluster(cloudId: $c, name: "overcloud") { id } }', { c: cloud.createCloud.id })).createCluster.id;
    const { createEnrollmentToken } = await owner.ok<{ createEnrollmentToken: { secret: string } }>('mutation($c: ID!) { createEnrollmentToken(clusterId: $c, name: "lab", maxUses: 3) { secret } }', { c: clusterId });
    for (const n of nodes) agents.push(startLocalAgent(cp, { name: n.name, token: createEnrollmentToken.secret, haproxyBindAddress: n.haproxy }));
    await waitFor('three nodes ONLINE', async () => {
      const ns = await clusterNodes();
      return ns.length === 3 && ns.every((n) => n.status === 'ONLINE');
    }, 90_000, 250);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(agents.map((a) => a.stop('SIGTERM', 15_000)));
    await Promise.allSettled(standins.map((s) => s.stop()));
    await cp?.stop();
  }, 120_000);

  it('adds a service node by node: each node applies it and passes the health gate before the next one starts', async () => {
    expect(await updateSpec([keystone], 0)).toBe(1);
    await waitFor('revision 1 on every node', async () => (await clusterNodes()).every((n) => n.appliedRevision === 1), 60_000, 250);

    const t0 = Date.now();
    expect(await updateSpec([keystone, glance], 1)).toBe(2);
    const r = await waitForRolloutEnd(owner, clusterId, 2);
    const ms = Date.now() - t0;
    process.stdout.write(`lab rollout, 3 nodes (grace ${GRACE_MS} ms, heartbeat ${HEARTBEAT_MS} ms): ${ms} ms, ≈ ${Math.round(ms / 3)} ms per node\n`);
    expect([r.status, r.reason]).toEqual(['SUCCEEDED', null]);
    expect(r.steps.map((s) => [s.nodeName, s.status])).toEqual(nodes.map((n) => [n.name, 'SUCCEEDED']));
    for (let i = 1; i < r.steps.length; i++) expect(Date.parse(r.steps[i].startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(r.steps[i - 1].finishedAt ?? ''));
    for (const n of nodes) {
      const answer = await waitFor(`glance through ${n.name}'s haproxy`, () => through(n.haproxy, glance.port).catch(() => undefined), 20_000, 200);
      expect(answer.service).toBe(glance.name);
    }
  });

  it('rolls the first node back when the new revision fails its health gate there, and sends it to no other node', async () => {
    expect(await updateSpec([keystone, glance, nova], 2)).toBe(3);
    const r = await waitForRolloutEnd(owner, clusterId, 3);
    expect(r.status).toBe('FAILED');
    // The galera backend was already DOWN before (no Galera here): only the new problem counts.
    expect(r.reason).toBe('controller-1: health gate timed out after 10000 ms: unhealthy: haproxy COMPONENT_DEGRADED: backend nova-api DOWN');
    expect(r.steps.map((s) => [s.nodeName, s.status])).toEqual([
      ['controller-1', 'ROLLED_BACK'],
      ['controller-2', 'SKIPPED'],
      ['controller-3', 'SKIPPED'],
    ]);
    await waitFor('controller-1 back on revision 2', async () => (await clusterNodes())[0].appliedRevision === 2, 20_000, 250);
    const commands = await owner.ok<{ commands: { edges: { node: { nodeId: string; revision: number; status: string } }[] } }>(
      'query($c: ID!) { commands(clusterId: $c, first: 100) { edges { node { nodeId revision status } } } }',
      { c: clusterId },
    );
    const ns = await clusterNodes();
    const rev3 = commands.commands.edges.map((e) => e.node).filter((c) => c.revision === 3);
    expect(rev3.map((c) => c.nodeId)).toEqual([ns[0].id]);
    expect(ns.map((n) => n.appliedRevision)).toEqual([2, 2, 2]);
    // Still serving the last good configuration.
    const answer = await through(nodes[0].haproxy, glance.port);
    expect(answer.node).toMatch(/^controller-/);
  });
});
