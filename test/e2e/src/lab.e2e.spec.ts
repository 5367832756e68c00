import { GraphQLSubscriber, LabCli, clusterView, runProgram, startControlPlane, startLabAgents, waitFor, waitForClusterApplied, type ClusterNodeView, type ControlPlane, type GraphQLClient } from '@triad/testing';

/**
 * Triad on the lab: real agents inside three controllers (network namespaces with nothing
 * configured), reaching the api's gRPC and NATS through the lab gateway; their drivers bring up
 * Corosync, Pacemaker (VIPs, the HAProxy clone, Galera, RabbitMQ) from the applied revision. The
 * lab is driven through its CLI (tools/lab/lab). Needs root and the packages of tools/install.sh;
 * the lab is named after this process so that parallel runs do not clean each other's lab.
 */
jest.setTimeout(300_000);

const HEARTBEAT_MS = 1_000;
// The lab's HAProxy clone runs with this master socket (the lab host profile).
const MASTER_SOCKET = '/run/haproxy/master.sock';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const timings: Record<string, string> = {};

interface FindingView {
  code: string;
  severity: string;
  nodeName: string | null;
  subject: string | null;
  owner: string;
  message: string;
  action: string;
}
interface HealthView {
  health: string;
  healthChangedAt: string | null;
  findings: FindingView[];
}

/** GET from the host; the stand-in behind haproxy says which controller answered. */
async function get(url: string): Promise<{ status: number; node?: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_500) });
  const body = (await res.json().catch(() => ({}))) as { node?: string };
  return { status: res.status, node: body.node };
}

describe('Triad agents in the lab controllers', () => {
  const labName = `le${process.pid}`.slice(0, 12);
  let lab: LabCli;
  let cp: ControlPlane;
  let owner: GraphQLClient;
  let ownerToken: string;
  let clusterId: string;
  let subnet: string;
  const names = () => lab.controllers.map((c) => c.name);
  const node = async (name: string): Promise<ClusterNodeView | undefined> => (await clusterView(owner, clusterId)).nodes.find((n) => n.name === name);
  /** The cluster's health rollup and open findings, as GraphQL shows them. */
  const health = async (): Promise<HealthView> =>
    (
      await owner.ok<{ cluster: HealthView }>(
        `query($id: ID!) { cluster(id: $id) { health healthChangedAt findings { code severity nodeName subject owner message action } } }`,
        { id: clusterId },
      )
    ).cluster;
  const waitForHealth = (want: string, timeoutMs: number) => waitFor(`cluster ${want}`, async () => ((await health()).health === want ? Date.now() : false), timeoutMs, 250);
  /** The HTTP VIPs of the lab spec and their ports. */
  const httpVips = () => [
    { resource: 'vip-keystone', address: `${subnet}.10`, port: 5000 },
    { resource: 'vip-glance-api', address: `${subnet}.11`, port: 9292 },
    { resource: 'vip-nova-api', address: `${subnet}.12`, port: 8774 },
  ];
  /** Whether the controller has the address on eth0 (read from the host: `ip -n <netns>`). */
  const holds = async (controller: string, address: string) => {
    const netns = lab.controllers.find((c) => c.name === controller)?.netns ?? '';
    const r = await runProgram('ip', ['-n', netns, '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    return r.code === 0 && r.stdout.includes(` ${address}/`);
  };

  let labStartedAt = 0;
  let appliedAt = 0;

  beforeAll(async () => {
    let t0 = Date.now();
    labStartedAt = t0;
    lab = await LabCli.up(labName, 3);
    timings['lab up (3 controllers, stand-ins answering)'] = seconds(Date.now() - t0);
    subnet = lab.gatewayAddress.replace(/\.254$/, '');
    const spec: unknown = JSON.parse(await lab.run(['spec']));

    t0 = Date.now();
    // The control plane listens for agents on the lab gateway only (gRPC and NATS); GraphQL on loopback.
    cp = await startControlPlane({ grpcHost: lab.gatewayAddress, natsHost: lab.gatewayAddress, heartbeatIntervalMs: HEARTBEAT_MS, logLevel: 'info' });
    ownerToken = await cp.bootstrapTenant('lab');
    owner = cp.client(ownerToken);
    const cloud = await owner.ok<{ createCloud: { id: string } }>(`mutation { createCloud(name: "lab") { id } }`);
    clusterId = (await owner.ok<{ createCluster: { id: string } }>(`mutation($c: ID!) { createCluster(cloudId: $c, name: "lab") { id } }`, { c: cloud.createCloud.id })).createCluster.id;
    const token = (
      await owner.ok<{ createEnrollmentToken: { secret: string } }>(`mutation($c: ID!) { createEnrollmentToken(clusterId: $c, name: "lab", maxUses: 3, ttlSeconds: 600) { secret } }`, { c: clusterId })
    ).createEnrollmentToken.secret;
    // Every driver: corosync.conf starts the cluster stack, the CIB runs the VIPs and the HAProxy
    // clone (which the agents then reload through its master socket), Galera and RabbitMQ.
    await startLabAgents(lab, { controlPlane: cp.grpcAddress, grpcTls: { caFile: cp.grpcCaFile }, enrollmentToken: token });
    await owner.ok(`mutation($id: ID!, $spec: JSON!) { updateClusterSpec(clusterId: $id, spec: $spec, expectedRevision: 0) { revision { revision } } }`, { id: clusterId, spec });
    await waitForClusterApplied(owner, clusterId, names(), 180_000);
    appliedAt = Date.now();
    timings['lab up → every agent ONLINE with revision 1 applied (control plane, enrollment, Corosync/Pacemaker started, CIB pushed)'] = seconds(appliedAt - t0);
    await waitFor('keystone VIP answering through the HAProxy clone', async () => (await get(`http://${subnet}.10:5000/v3`).catch(() => ({ status: 0 }))).status === 200, 120_000, 250);
    timings['lab up → keystone VIP answering (Pacemaker started the VIP and the HAProxy clone)'] = seconds(Date.now() - t0);
  });

  afterAll(async () => {
    await LabCli.run(labName, ['down']);
    await cp?.stop();
    process.stdout.write(`lab e2e timings:\n${Object.entries(timings).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
  });

  it('converges: every controller ONLINE at the applied revision, reporting its lab address, its haproxy run from the file Triad rendered', async () => {
    const view = await clusterView(owner, clusterId);
    expect(view.currentRevision).toBe(1);
    for (const c of lab.controllers) {
      const n = view.nodes.find((x) => x.name === c.name);
      expect(n).toMatchObject({ status: 'ONLINE', appliedRevision: 1 });
      expect((n?.facts as { addresses?: string[] }).addresses).toContain(c.address);
      // The agent installed the haproxy.cfg Triad rendered (with the lab profile's maxconn); the
      // Pacemaker-run master, started from it, listens on the socket the rendered CIB gave it,
      // through which the agent reloads later revisions.
      expect((await lab.exec(c.name, ['/bin/grep', '-c', '^  maxconn 4096$', '/etc/haproxy/haproxy.cfg'])).stdout.trim()).toBe('2');
      expect((await lab.exec(c.name, ['/bin/grep', '-q', 'Rendered by Triad', '/etc/haproxy/haproxy.cfg'])).code).toBe(0);
      const proc = await lab.exec(c.name, ['/bin/sh', '-c', `echo 'show proc' | /usr/bin/socat stdio unix-connect:${MASTER_SOCKET}`]);
      expect(proc.stdout).toMatch(/\bmaster\s+\d+ \[failed: 0\]/);
    }
  });

  it('converges to HEALTHY: no open finding once Galera and RabbitMQ have formed', async () => {
    const healthyAt = await waitForHealth('HEALTHY', 480_000).catch(async (e: unknown) => {
      throw new Error(`${(e as Error).message}; open findings: ${JSON.stringify((await health()).findings)}`);
    });
    timings['revision applied on every node → cluster HEALTHY (Galera, RabbitMQ formed)'] = seconds(healthyAt - appliedAt);
    timings['lab up (start) → cluster HEALTHY'] = seconds(healthyAt - labStartedAt);
    const view = await health();
    expect(view.findings).toEqual([]);
    expect(view.healthChangedAt).not.toBeNull();
  }, 540_000);

  it('the keystone VIP answers from the host gateway through HAProxy, from a controller stand-in', async () => {
    const r = await get(`http://${subnet}.10:5000/v3`);
    expect(r.status).toBe(200);
    expect(names()).toContain(r.node);
  });

  it('cut controller-1: Pacemaker moves its VIPs (they keep answering), Triad reports it UNREACHABLE and the cluster DEGRADED; heal: ONLINE again, its finding resolved, HEALTHY again', async () => {
    let held: ReturnType<typeof httpVips> = [];
    for (const v of httpVips()) if (await holds('controller-1', v.address)) held.push(v);
    if (held.length === 0) {
      // Pacemaker spread the VIPs elsewhere: put one on controller-1 so the cut has something to move.
      const [vip] = httpVips();
      if (!vip) throw new Error('no HTTP VIP in the lab spec');
      await lab.exec('controller-1', ['/usr/sbin/crm_resource', '--move', '--resource', vip.resource, '--node', 'controller-1']);
      await waitFor(`${vip.address} on controller-1`, () => holds('controller-1', vip.address), 30_000, 250);
      held = [vip];
    }

    const changes = await GraphQLSubscriber.open(cp.graphqlUrl, ownerToken, 'subscription($c: ID!) { clusterHealthChanged(clusterId: $c) { health findings { code nodeName } } }', { c: clusterId });
    const healthOf = (e: Record<string, unknown>) => e.clusterHealthChanged as { health: string; findings: { code: string; nodeName: string | null }[] };
    await lab.run(['cut', 'controller-1']);
    // After the CLI returns: its own start-up (~1-2 s) is not part of what is measured.
    const cutAt = Date.now();
    const unreachable = waitFor('controller-1 UNREACHABLE', async () => (await node('controller-1'))?.status === 'UNREACHABLE' && Date.now(), 60_000, 100);
    const moved = Promise.all(
      held.map((v) =>
        waitFor(
          `${v.address} held by another controller and answering`,
          async () => {
            const others = await Promise.all(['controller-2', 'controller-3'].map((c) => holds(c, v.address)));
            if (!others.some(Boolean)) return false;
            return (await get(`http://${v.address}:${v.port}/`).catch(() => ({ status: 0 }))).status === 200 && Date.now();
          },
          60_000,
          100,
        ),
      ),
    );
    const degraded = waitFor(
      'NODE_UNREACHABLE finding for controller-1 and the cluster DEGRADED',
      async () => {
        const h = await health();
        return h.health === 'DEGRADED' && h.findings.some((f) => f.code === 'NODE_UNREACHABLE' && f.nodeName === 'controller-1') && Date.now();
      },
      60_000,
      250,
    );
    const [unreachableAt, movedAt, degradedAt] = await Promise.all([unreachable, moved, degraded]);
    timings[`cut controller-1 → its VIPs (${held.map((v) => v.resource).join(', ')}) answering from another controller`] = seconds(Math.max(...movedAt) - cutAt);
    timings['cut controller-1 → Triad reports it UNREACHABLE (heartbeat 1 s)'] = seconds(unreachableAt - cutAt);
    timings['cut controller-1 → NODE_UNREACHABLE finding, cluster DEGRADED'] = seconds(degradedAt - cutAt);
    const during = await health();
    const finding = during.findings.find((f) => f.code === 'NODE_UNREACHABLE');
    expect(finding).toMatchObject({ nodeName: 'controller-1', owner: 'NONE', severity: 'WARNING' });
    expect(finding?.message).toContain('Triad cannot hear from it');
    // Only the node finding for controller-1: nothing from its stale heartbeat.
    expect(during.findings.filter((f) => f.nodeName === 'controller-1').map((f) => f.code)).toEqual(['NODE_UNREACHABLE']);
    // The other two keep heartbeating.
    const view = await clusterView(owner, clusterId);
    expect(view.nodes.filter((n) => n.name !== 'controller-1').map((n) => n.status)).toEqual(['ONLINE', 'ONLINE']);
    expect((await get(`http://${subnet}.10:5000/v3`)).status).toBe(200);

    await lab.run(['heal', 'controller-1']);
    const healAt = Date.now();
    await waitFor('controller-1 ONLINE again', async () => (await node('controller-1'))?.status === 'ONLINE', 90_000, 100);
    timings['heal controller-1 → ONLINE again'] = seconds(Date.now() - healAt);
    // The node's own finding resolves once it heartbeats again.
    await waitFor('NODE_UNREACHABLE of controller-1 resolved', async () => !(await health()).findings.some((f) => f.code === 'NODE_UNREACHABLE' && f.nodeName === 'controller-1'), 60_000, 200);
    timings['heal controller-1 → its NODE_UNREACHABLE finding resolved'] = seconds(Date.now() - healAt);
    // Then HEALTHY again: Galera and RabbitMQ rejoin by their resource agents; when one failed its
    // start after the partition (seen in one run of two), Pacemaker's grace (60 s) runs out and
    // remediation's bounded cleanup restarts it — the runs are recorded below.
    const healthyAgainAt = await waitForHealth('HEALTHY', 300_000).catch(async (e: unknown) => {
      throw new Error(`${(e as Error).message}; open findings: ${JSON.stringify((await health()).findings)}`);
    });
    timings['heal controller-1 → cluster HEALTHY again'] = seconds(healthyAgainAt - healAt);
    const runs = await owner.ok<{ cluster: { remediationRuns: { edges: { node: { playbook: string; status: string; nodeName: string | null } }[] } } }>(
      'query($id: ID!) { cluster(id: $id) { remediationRuns(first: 10) { edges { node { playbook status nodeName } } } } }',
      { id: clusterId },
    );
    timings['remediation runs during the cut and heal'] = runs.cluster.remediationRuns.edges.map((e) => `${e.node.playbook}@${e.node.nodeName ?? '*'} ${e.node.status}`).join(', ') || 'none';
    // None while controller-1 was cut off: a node Triad cannot hear from is not remediated.
    expect(runs.cluster.remediationRuns.edges.filter((e) => e.node.nodeName === 'controller-1' && e.node.playbook === 'cluster_stack.recover')).toEqual([]);
    changes.close();
    expect(changes.errors).toEqual([]);
    const seen = changes.events.map(healthOf);
    expect(seen.some((e) => e.health === 'DEGRADED' && e.findings.some((f) => f.code === 'NODE_UNREACHABLE' && f.nodeName === 'controller-1'))).toBe(true);
  }, 600_000);

  it('power-cycles a controller: its agent comes back with the identity kept in the controller, ONLINE at the applied revision', async () => {
    await lab.run(['stop', 'controller-2']);
    await waitFor('controller-2 UNREACHABLE', async () => (await node('controller-2'))?.status === 'UNREACHABLE', 60_000, 200);
    await lab.run(['start', 'controller-2']);
    const startedAt = Date.now();
    await waitFor('controller-2 ONLINE again at revision 1', async () => {
      const n = await node('controller-2');
      return n?.status === 'ONLINE' && n.appliedRevision === 1;
    }, 90_000, 200);
    timings['start controller-2 (corosync, pacemakerd, agent restarted by the lab) → ONLINE'] = seconds(Date.now() - startedAt);
    // Still three nodes: it came back as itself, not as a new enrollment.
    expect((await clusterView(owner, clusterId)).nodes.map((n) => n.name).sort()).toEqual(names());
  });
});
