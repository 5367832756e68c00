import { execFile } from 'node:child_process';
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
} from '@triad/testing';

/**
 * Scale-out on the lab (docs/scale-out.md): three controllers brought up by Triad's drivers, then
 * `tools/lab/lab add` makes controller-4 (nothing configured) and its agent enrolls with a token
 * that allows new nodes. Enrollment appends it to the spec (revision 2); the rollout updates the
 * three members and then it; it joins Corosync, Pacemaker, Galera, RabbitMQ and every haproxy, and
 * a request through a VIP is answered by its stand-in. Needs root and tools/install.sh's packages.
 *
 * Prints how long each component took to see the new member, from the agent's start:
 *   TRIAD_LONG_TESTS=1 flock /tmp/triad-heavy.lock npx jest test/e2e/src/lab-scaleout.long.e2e.spec.ts
 */
jest.setTimeout(900_000);

const HEARTBEAT_MS = 1_000;
const GRACE_MS = 3_000;
// The new node's own gate covers its whole join (stack start, Galera SST, RabbitMQ join).
const HEALTH_TIMEOUT_MS = 300_000;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const timings: [string, string][] = [];

async function get(url: string): Promise<{ status: number; node?: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_500) });
  const body = (await res.json().catch(() => ({}))) as { node?: string };
  return { status: res.status, node: body.node };
}

describe('scale-out: a fourth controller joins a lab cluster managed by Triad', () => {
  const labName = `ls${process.pid}`.slice(0, 12);
  let lab: LabCli;
  let cp: ControlPlane;
  let owner: GraphQLClient;
  let clusterId: string;
  let subnet: string;
  const members = ['controller-1', 'controller-2', 'controller-3'];

  const currentRevision = async () => (await owner.ok<{ cluster: { currentRevision: number } }>('query($id: ID!) { cluster(id: $id) { currentRevision } }', { id: clusterId })).cluster.currentRevision;

  beforeAll(async () => {
    let t0 = Date.now();
    lab = await LabCli.up(labName, 3);
    timings.push(['lab up (3 controllers, nothing configured)', seconds(Date.now() - t0)]);
    subnet = lab.gatewayAddress.replace(/\.254$/, '');
    const spec = JSON.parse(await lab.run(['spec'])) as { acknowledgedWarnings?: string[] } & Record<string, unknown>;
    // Growing 3 → 4 makes Galera's membership even: the operator accepts that up front.
    spec.acknowledgedWarnings = [...(spec.acknowledgedWarnings ?? []), 'EVEN_GALERA_MEMBERSHIP'];

    t0 = Date.now();
    cp = await startControlPlane({
      grpcHost: lab.gatewayAddress,
      natsHost: lab.gatewayAddress,
      heartbeatIntervalMs: HEARTBEAT_MS,
      logLevel: 'info',
      env: { ROLLOUT_HEALTH_GRACE_MS: String(GRACE_MS), ROLLOUT_HEALTH_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS), ROLLOUT_POLL_INTERVAL_MS: '250', ROLLOUT_SWEEP_INTERVAL_MS: '1000' },
    });
    owner = cp.client(await cp.bootstrapTenant('lab-scaleout'));
    const cloud = await owner.ok<{ createCloud: { id: string } }>('mutation { createCloud(name: "lab") { id } }');
    clusterId = (await owner.ok<{ createCluster: { id: string } }>('mutation($c: ID!) { createCluster(cloudId: $c, name: "lab") { id } }', { c: cloud.createCloud.id })).createCluster.id;
    const token = (await owner.ok<{ createEnrollmentToken: { secret: string } }>('mutation($c: ID!) { createEnrollmentToken(clusterId: $c, name: "lab", maxUses: 3, ttlSeconds: 600) { secret } }', { c: clusterId }))
      .createEnrollmentToken.secret;
    await startLabAgents(lab, { controlPlane: cp.grpcAddress, grpcTls: { caFile: cp.grpcCaFile }, enrollmentToken: token });
    await owner.ok('mutation($id: ID!, $spec: JSON!) { updateClusterSpec(clusterId: $id, spec: $spec, expectedRevision: 0) { revision { revision } } }', { id: clusterId, spec });
    await waitForClusterApplied(owner, clusterId, members, 240_000);
    // Galera formed before growing it (a write through its VIP read on every member).
    await galeraWriteThroughVip(lab, `${subnet}.100`);
    timings.push(['bring-up of the 3 members: revision 1 applied, Galera formed', seconds(Date.now() - t0)]);
  });

  afterAll(async () => {
    await lab?.down();
    await cp?.stop();
    process.stdout.write(`lab scale-out e2e timings (heartbeat ${HEARTBEAT_MS} ms, gate grace ${GRACE_MS} ms):\n${timings.map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
  });

  it('controller-4 enrolls, a revision adds it, the members are updated before it, and it joins every component', async () => {
    const uptimeBefore = await Promise.all(members.map(async (m) => Number((await lab.wsrepStatus(m)).Uptime)));
    const uptimeReadAt = Date.now();
    let t0 = Date.now();
    await lab.run(['add']);
    await lab.refresh();
    const four = lab.controllers.find((c) => c.name === 'controller-4');
    if (!four) throw new Error('lab add made no controller-4');
    timings.push(['lab add → controller-4 up (stand-ins answering)', seconds(Date.now() - t0)]);

    const token = (
      await owner.ok<{ createEnrollmentToken: { secret: string } }>('mutation($c: ID!) { createEnrollmentToken(clusterId: $c, name: "scale-out", maxUses: 1, ttlSeconds: 600, allowNewNodes: true) { secret } }', {
        c: clusterId,
      })
    ).createEnrollmentToken.secret;
    t0 = Date.now();
    const since = (label: string) => () => timings.push([`agent start → ${label}`, seconds(Date.now() - t0)]);
    await startLabAgents(lab, { controlPlane: cp.grpcAddress, grpcTls: { caFile: cp.grpcCaFile }, enrollmentToken: token }, ['controller-4']);

    await waitFor('revision 2 adding controller-4', async () => (await currentRevision()) === 2, 60_000, 250);
    since('enrolled, revision 2 stored')();
    const revision = await owner.ok<{ cluster: { revisions: { edges: { node: { revision: number; spec: { topology: { nodes: { name: string; internalAddress: string }[] } } } }[] } } }>(
      'query($id: ID!) { cluster(id: $id) { revisions(first: 1) { edges { node { revision spec } } } } }',
      { id: clusterId },
    );
    expect(revision.cluster.revisions.edges[0]?.node.spec.topology.nodes.at(-1)).toMatchObject({ name: 'controller-4', internalAddress: four.address });

    const joined = Promise.all([
      waitFor('corosync: 4 votes', async () => /Total votes:\s+4\b/.test(await lab.output('controller-1', ['/usr/sbin/corosync-quorumtool', '-s'])), 600_000, 500).then(since('Corosync membership 4 (corosync-quorumtool)')),
      waitFor('pacemaker: controller-4 online', async () => /<node name="controller-4"[^>]*online="true"/.test(await lab.output('controller-1', ['/usr/sbin/crm_mon', '--output-as=xml', '-1'])), 600_000, 500).then(
        since('Pacemaker node controller-4 online'),
      ),
      waitFor(
        'galera: controller-4 Synced in a cluster of 4',
        async () => {
          const s = await lab.wsrepStatus('controller-4');
          return s.wsrep_cluster_size === '4' && s.wsrep_local_state_comment === 'Synced';
        },
        600_000,
        1_000,
      ).then(since('Galera wsrep_cluster_size 4, controller-4 Synced')),
      waitFor(
        'rabbitmq: rabbit@controller-4 running (RabbitMQ is the slowest to form on this machine)',
        async () => (await lab.rabbitmqRunningNodes('controller-1')).includes('rabbit@controller-4'),
        600_000,
        2_000,
      ).then(since('RabbitMQ running nodes include rabbit@controller-4')),
      waitFor(
        "every haproxy.cfg has controller-4's backends",
        async () => {
          for (const c of [...members, 'controller-4']) if (!(await lab.output(c, ['/bin/cat', '/etc/haproxy/haproxy.cfg'])).includes(`server controller-4 ${four.address}:5000`)) return false;
          return true;
        },
        600_000,
        1_000,
      ).then(since("every controller's haproxy.cfg lists controller-4")),
      waitFor('the keystone VIP answered by controller-4', async () => (await get(`http://${subnet}.10:5000/v3`).catch(() => ({ status: 0, node: undefined }))).node === 'controller-4', 600_000, 200).then(
        since("keystone VIP answered by controller-4's stand-in"),
      ),
    ]);

    const rollout = await waitForRolloutEnd(owner, clusterId, 2, 600_000);
    since(`rollout of revision 2 ${rollout.status}`)();
    for (const s of rollout.steps) if (s.startedAt && s.finishedAt) timings.push([`revision 2 step ${s.nodeName} ${s.status}`, seconds(Date.parse(s.finishedAt) - Date.parse(s.startedAt))]);
    expect([rollout.status, rollout.reason]).toEqual(['SUCCEEDED', null]);
    expect(rollout.steps.map((s) => [s.nodeName, s.status])).toEqual([...members, 'controller-4'].map((n) => [n, 'SUCCEEDED']));
    // The members first, one at a time; the new node only after the last of them.
    for (let i = 1; i < rollout.steps.length; i++) expect(Date.parse(rollout.steps[i]?.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(rollout.steps[i - 1]?.finishedAt ?? ''));
    await joined;

    // The members' Galera kept running through the scale-out: the CIB's galera parameters changed
    // (the membership), and the Pacemaker driver holds the clone while Pacemaker takes them in.
    const elapsed = (Date.now() - uptimeReadAt) / 1000;
    const restarted = (await Promise.all(members.map(async (m, i) => ({ m, up: Number((await lab.wsrepStatus(m)).Uptime), before: uptimeBefore[i] ?? 0 })))).filter((x) => !(x.up >= x.before + elapsed - 5));
    timings.push(['members whose mariadbd restarted during the scale-out', restarted.map((x) => x.m).join(', ') || 'none']);
    expect(restarted.map((x) => x.m)).toEqual([]);
    expect(await lab.wsrepStatus('controller-1')).toMatchObject({ wsrep_cluster_size: '4', wsrep_local_state_comment: 'Synced' });
  });

  it('down removes the added controller with the rest', async () => {
    await lab.down();
    const netns = await new Promise<string>((resolve) => execFile('ip', ['netns', 'list'], (_e, stdout) => resolve(stdout)));
    expect(netns.split('\n').filter((l) => l.startsWith(`${labName}-`))).toEqual([]);
  });
});
