import {
  LabCli,
  galeraWriteThroughVip,
  startControlPlane,
  startLabAgents,
  waitFor,
  waitForClusterApplied,
  waitForRolloutEnd,
  type ControlPlane,
  type GraphQLClient,
  type RolloutView,
} from '@triad/testing';

/**
 * Rollouts on the lab, brought up by Triad's drivers: three controllers with nothing configured,
 * an agent in each running every driver (Corosync, HAProxy external, Galera and RabbitMQ in
 * Pacemaker mode, the CIB). Revision 1 brings the cluster up; then (a) a SQL write through the
 * Galera VIP is read on every controller, (b) a service with a new VIP rolls out node by node and
 * answers, (c) a service whose backends never answer fails the health gate on controller-1, is
 * rolled back there and goes no further. Needs root and tools/install.sh's packages.
 *
 * Timings are printed at the end:
 *   flock /tmp/triad-heavy.lock npx jest test/e2e/src/lab-rollout.e2e.spec.ts
 */
jest.setTimeout(600_000);

const HEARTBEAT_MS = 1_000;
const GRACE_MS = 3_000;
const HEALTH_TIMEOUT_MS = 20_000;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const timings: [string, string][] = [];

type NodeView = { id: string; name: string; status: string; appliedRevision: number };

async function get(url: string): Promise<{ status: number; node?: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_500) });
  const body = (await res.json().catch(() => ({}))) as { node?: string };
  return { status: res.status, node: body.node };
}

describe('rollouts on a lab brought up by the drivers', () => {
  const labName = `lr${process.pid}`.slice(0, 12);
  let lab: LabCli;
  let cp: ControlPlane;
  let owner: GraphQLClient;
  let clusterId: string;
  let subnet: string;
  let baseSpec: { services: { name: string; vip: string; port?: number }[] } & Record<string, unknown>;
  const names = () => lab.controllers.map((c) => c.name);

  const updateSpec = async (services: { name: string; vip: string; port?: number }[], expectedRevision: number) =>
    (
      await owner.ok<{ updateClusterSpec: { revision: { revision: number } } }>(
        'mutation($id: ID!, $spec: JSON!, $rev: Int!) { updateClusterSpec(clusterId: $id, spec: $spec, expectedRevision: $rev) { revision { revision } } }',
        { id: clusterId, spec: { ...baseSpec, services }, rev: expectedRevision },
      )
    ).updateClusterSpec.revision.revision;
  const clusterNodes = async () =>
    (await owner.ok<{ cluster: { nodes: { edges: { node: NodeView }[] } } }>('query($id: ID!) { cluster(id: $id) { nodes(first: 10) { edges { node { id name status appliedRevision } } } } }', { id: clusterId })).cluster.nodes.edges
      .map((e) => e.node)
      .sort((a, b) => a.name.localeCompare(b.name));
  const finished = (revision: number) => waitForRolloutEnd(owner, clusterId, revision, 300_000);
  /** What a node applies that a rollout must not touch elsewhere: its haproxy.cfg and the CIB's resources and constraints as it sees them. */
  const nodeConfig = async (node: string) => {
    const out = async (argv: string[]) => {
      const r = await lab.exec(node, argv);
      if (r.code !== 0) throw new Error(`${argv.join(' ')} on ${node} exited ${r.code}`);
      return r.stdout;
    };
    return {
      haproxyCfg: await out(['/bin/cat', '/etc/haproxy/haproxy.cfg']),
      resources: await out(['/usr/sbin/cibadmin', '--query', '--scope', 'resources']),
      constraints: await out(['/usr/sbin/cibadmin', '--query', '--scope', 'constraints']),
    };
  };
  const recordSteps = (label: string, r: RolloutView) => {
    for (const s of r.steps) {
      if (s.startedAt && s.finishedAt) timings.push([`${label}: ${s.nodeName} ${s.status}`, seconds(Date.parse(s.finishedAt) - Date.parse(s.startedAt))]);
    }
  };

  beforeAll(async () => {
    let t0 = Date.now();
    lab = await LabCli.up(labName, 3);
    timings.push(['lab up (3 controllers, nothing configured, stand-ins answering)', seconds(Date.now() - t0)]);
    subnet = lab.gatewayAddress.replace(/\.254$/, '');
    baseSpec = JSON.parse(await lab.run(['spec'])) as typeof baseSpec;

    t0 = Date.now();
    cp = await startControlPlane({
      grpcHost: lab.gatewayAddress,
      natsHost: lab.gatewayAddress,
      heartbeatIntervalMs: HEARTBEAT_MS,
      logLevel: 'info',
      env: { ROLLOUT_HEALTH_GRACE_MS: String(GRACE_MS), ROLLOUT_HEALTH_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS), ROLLOUT_POLL_INTERVAL_MS: '250', ROLLOUT_SWEEP_INTERVAL_MS: '1000' },
    });
    owner = cp.client(await cp.bootstrapTenant('lab-rollout'));
    const cloud = await owner.ok<{ createCloud: { id: string } }>('mutation { createCloud(name: "lab") { id } }');
    clusterId = (await owner.ok<{ createCluster: { id: string } }>('mutation($c: ID!) { createCluster(cloudId: $c, name: "lab") { id } }', { c: cloud.createCloud.id })).createCluster.id;
    // Rollouts only: remediation (its own e2e) would otherwise start acting on Galera while
    // Pacemaker's galera agent still bootstraps it (after the 60 s Pacemaker grace), and its node
    // actions would race the rollout's.
    await owner.ok('mutation($c: ID!) { setRemediationPolicy(clusterId: $c, policy: OFF) { id } }', { c: clusterId });
    const token = (await owner.ok<{ createEnrollmentToken: { secret: string } }>('mutation($c: ID!) { createEnrollmentToken(clusterId: $c, name: "lab", maxUses: 3, ttlSeconds: 600) { secret } }', { c: clusterId }))
      .createEnrollmentToken.secret;
    await startLabAgents(lab, { controlPlane: cp.grpcAddress, grpcTls: { caFile: cp.grpcCaFile }, enrollmentToken: token });
    expect(await updateSpec(baseSpec.services, 0)).toBe(1);
    await waitForClusterApplied(owner, clusterId, names(), 240_000);
    timings.push(['bring-up: revision 1 applied on every controller (stack started, CIB pushed)', seconds(Date.now() - t0)]);
    await waitFor('keystone VIP answering', async () => (await get(`http://${subnet}.10:5000/v3`).catch(() => ({ status: 0 }))).status === 200, 180_000, 250);
    timings.push(['bring-up: keystone VIP answering from the host', seconds(Date.now() - t0)]);
  });

  afterAll(async () => {
    await lab?.down();
    await cp?.stop();
    process.stdout.write(`lab rollout e2e timings (heartbeat ${HEARTBEAT_MS} ms, gate grace ${GRACE_MS} ms):\n${timings.map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
  });

  it('(a) a SQL write through the Galera VIP is readable on every controller', async () => {
    const t0 = Date.now();
    const read = await galeraWriteThroughVip(lab, `${subnet}.100`);
    timings.push(['Galera formed → write through the VIP read on all 3 (from the keystone VIP answering)', seconds(Date.now() - t0)]);
    expect(read.map((r) => [r.node, r.rows])).toEqual(names().map((n) => [n, 1]));
  });

  it('(b) a service with a new VIP rolls out one node at a time, and the VIP answers from the host', async () => {
    const placement = { name: 'placement', vip: `${subnet}.13` };
    const t0 = Date.now();
    expect(await updateSpec([...baseSpec.services, placement], 1)).toBe(2);
    const r = await finished(2);
    timings.push(['revision 2 (new service + VIP) rollout, 3 nodes', seconds(Date.now() - t0)]);
    recordSteps('revision 2 step', r);
    expect([r.status, r.reason]).toEqual(['SUCCEEDED', null]);
    expect(r.steps.map((s) => [s.nodeName, s.status])).toEqual(names().map((n) => [n, 'SUCCEEDED']));
    // One at a time, in order: each step starts after the previous one finished.
    for (let i = 1; i < r.steps.length; i++) expect(Date.parse(r.steps[i]?.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(r.steps[i - 1]?.finishedAt ?? ''));
    const answer = await waitFor('the placement VIP answering', async () => {
      const a = await get(`http://${placement.vip}:8778/`).catch(() => ({ status: 0, node: undefined }));
      return a.status === 200 && a;
    }, 60_000, 250);
    expect(names()).toContain(answer.node);
    expect((await clusterNodes()).map((n) => n.appliedRevision)).toEqual([2, 2, 2]);
  });

  it('(c) a change failing its health gate on controller-1 is rolled back there; the other nodes are untouched', async () => {
    const before = { 'controller-2': await nodeConfig('controller-2'), 'controller-3': await nodeConfig('controller-3') };
    const current = [...baseSpec.services, { name: 'placement', vip: `${subnet}.13` }];
    // Nothing listens on this port on any controller: its HAProxy backends go DOWN, a new problem.
    const dead = { name: 'cinder-api', vip: `${subnet}.14`, port: 18776 };
    const t0 = Date.now();
    expect(await updateSpec([...current, dead], 2)).toBe(3);
    const r = await finished(3);
    timings.push(['revision 3 (dead backends): gate fails on controller-1, rolled back, rollout FAILED', seconds(Date.now() - t0)]);
    recordSteps('revision 3 step', r);
    expect(r.status).toBe('FAILED');
    expect(r.reason).toMatch(/^controller-1: health gate .*backend cinder-api DOWN/);
    expect(r.steps.map((s) => [s.nodeName, s.status])).toEqual([
      ['controller-1', 'ROLLED_BACK'],
      ['controller-2', 'SKIPPED'],
      ['controller-3', 'SKIPPED'],
    ]);
    await waitFor('controller-1 back on revision 2', async () => (await clusterNodes())[0]?.appliedRevision === 2, 60_000, 250);
    expect((await clusterNodes()).map((n) => n.appliedRevision)).toEqual([2, 2, 2]);
    // The rollback restored the CIB controller-1 had pushed; the others never applied anything.
    for (const node of ['controller-2', 'controller-3'] as const) expect(await nodeConfig(node)).toEqual(before[node]);
    const c1 = await nodeConfig('controller-1');
    expect(c1.haproxyCfg).not.toContain('cinder-api');
    expect(c1.resources).not.toContain('vip-cinder-api');
    expect((await get(`http://${subnet}.13:8778/`)).status).toBe(200);
  });
});
