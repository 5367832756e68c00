import {
  LabCli,
  galeraWriteThroughVip,
  runProgram,
  startControlPlane,
  startLabAgents,
  waitFor,
  waitForClusterApplied,
  type ControlPlane,
  type GraphQLClient,
} from '@triad/testing';

/**
 * Remediation on the lab brought up by Triad's drivers (three controllers, agents running every
 * driver), with a client writing through the Galera VIP the whole time:
 *   (a) kill -9 of corosync and pacemakerd on controller-2 → CLUSTER_STACK_DOWN, a run restarts
 *       the stack there, the node rejoins, the cluster is HEALTHY again;
 *   (b) maintenance on: the same kill on controller-3 starts nothing at all;
 *   (c) maintenance off, policy APPROVAL: a run waits until approveRemediation, then repairs it.
 * Afterwards every acknowledged write is on every controller. Needs root and tools/install.sh's
 * packages. Detection and recovery times are printed at the end:
 *   flock /tmp/triad-heavy.lock npx jest test/e2e/src/lab-remediation.e2e.spec.ts
 */
jest.setTimeout(900_000);

const HEARTBEAT_MS = 1_000;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const timings: [string, string][] = [];

interface RunView {
  id: string;
  playbook: string;
  status: string;
  nodeName: string | null;
  reason: string | null;
  createdAt: string;
  finishedAt: string | null;
  steps: Array<{ action: string; nodeName: string | null; status: string; message: string | null }>;
}

/** INSERTs through the Galera VIP until stopped; keeps the values whose INSERT was acknowledged. */
function galeraWriter(vip: string, tag: string): { stop: () => Promise<string[]>; acked: string[]; failed: () => number } {
  const acked: string[] = [];
  let failed = 0;
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const v = `${tag}-${i}`;
      const r = await runProgram('mysql', ['-h', vip, '-P', '3306', '-udemo', '-pdemo', '--connect-timeout=2', '-e', `INSERT INTO demo.t (v) VALUES ('${v}')`], 10_000);
      if (r.code === 0) acked.push(v);
      else failed++;
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  return {
    acked,
    failed: () => failed,
    stop: async () => {
      running = false;
      await loop;
      return acked;
    },
  };
}

describe('remediation on a lab brought up by the drivers', () => {
  const labName = `rm${process.pid}`.slice(0, 12);
  let lab: LabCli;
  let cp: ControlPlane;
  let owner: GraphQLClient;
  let clusterId: string;
  let subnet: string;
  let writer: ReturnType<typeof galeraWriter> | undefined;
  const names = () => lab.controllers.map((c) => c.name);

  const health = async () =>
    (await owner.ok<{ cluster: { health: string; findings: Array<{ code: string; nodeName: string | null; owner: string }> } }>('query($id: ID!) { cluster(id: $id) { health findings { code nodeName owner } } }', { id: clusterId }))
      .cluster;
  const runs = async () =>
    (
      await owner.ok<{ cluster: { remediationRuns: { edges: Array<{ node: RunView }> } } }>(
        'query($id: ID!) { cluster(id: $id) { remediationRuns(first: 20) { edges { node { id playbook status nodeName reason createdAt finishedAt steps { action nodeName status message } } } } } }',
        { id: clusterId },
      )
    ).cluster.remediationRuns.edges.map((e) => e.node);
  const stackRunning = async (node: string) => (await lab.exec(node, ['/usr/sbin/corosync-cfgtool', '-s'])).code === 0 && (await lab.exec(node, ['/usr/sbin/cibadmin', '--query', '--scope', 'nodes'])).code === 0;
  const killStack = async (node: string) => {
    await lab.run(['kill', node, 'corosync']);
    await lab.run(['kill', node, 'pacemakerd']);
  };

  beforeAll(async () => {
    const t0 = Date.now();
    lab = await LabCli.up(labName, 3);
    subnet = lab.gatewayAddress.replace(/\.254$/, '');
    const spec = JSON.parse(await lab.run(['spec'])) as Record<string, unknown>;
    cp = await startControlPlane({
      grpcHost: lab.gatewayAddress,
      natsHost: lab.gatewayAddress,
      heartbeatIntervalMs: HEARTBEAT_MS,
      logLevel: 'info',
      env: { REMEDIATION_SWEEP_INTERVAL_MS: '1000', REMEDIATION_POLL_INTERVAL_MS: '500', REMEDIATION_BACKOFF_BASE_MS: '5000' },
    });
    owner = cp.client(await cp.bootstrapTenant('lab-remediation'));
    const cloud = await owner.ok<{ createCloud: { id: string } }>('mutation { createCloud(name: "lab") { id } }');
    clusterId = (await owner.ok<{ createCluster: { id: string } }>('mutation($c: ID!) { createCluster(cloudId: $c, name: "lab") { id } }', { c: cloud.createCloud.id })).createCluster.id;
    const token = (await owner.ok<{ createEnrollmentToken: { secret: string } }>('mutation($c: ID!) { createEnrollmentToken(clusterId: $c, name: "lab", maxUses: 3, ttlSeconds: 600) { secret } }', { c: clusterId }))
      .createEnrollmentToken.secret;
    await startLabAgents(lab, { controlPlane: cp.grpcAddress, enrollmentToken: token });
    await owner.ok('mutation($id: ID!, $spec: JSON!) { updateClusterSpec(clusterId: $id, spec: $spec, expectedRevision: 0) { revision { revision } } }', { id: clusterId, spec });
    await waitForClusterApplied(owner, clusterId, names(), 300_000);
    await galeraWriteThroughVip(lab, `${subnet}.100`);
    await waitFor('cluster HEALTHY', async () => (await health()).health === 'HEALTHY', 300_000, 1_000);
    timings.push(['bring-up to HEALTHY (Galera written through the VIP)', seconds(Date.now() - t0)]);
    writer = galeraWriter(`${subnet}.100`, `w${Date.now()}`);
  });

  afterAll(async () => {
    await writer?.stop();
    await lab?.down();
    await cp?.stop();
    process.stdout.write(`lab remediation e2e timings (heartbeat ${HEARTBEAT_MS} ms):\n${timings.map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
  });

  it('(a) corosync and pacemakerd killed on controller-2: detected, stack restarted by Triad, node back, cluster HEALTHY', async () => {
    const t0 = Date.now();
    await killStack('controller-2');
    await waitFor('CLUSTER_STACK_DOWN on controller-2', async () => (await health()).findings.some((f) => f.code === 'CLUSTER_STACK_DOWN' && f.nodeName === 'controller-2'), 60_000, 250);
    timings.push(['(a) kill → CLUSTER_STACK_DOWN finding', seconds(Date.now() - t0)]);
    const run = await waitFor('the run to end', async () => (await runs()).find((r) => r.playbook === 'cluster_stack.recover' && r.nodeName === 'controller-2' && r.finishedAt), 300_000, 500);
    timings.push(['(a) kill → run finished', seconds(Date.now() - t0)]);
    expect([run.playbook, run.status, run.steps.map((s) => `${s.action}:${s.status}`)]).toEqual([
      'cluster_stack.recover',
      'SUCCEEDED',
      ['cluster_stack.start:SUCCEEDED', 'wait.node_rejoined:SUCCEEDED', 'wait.resources_started:SUCCEEDED'],
    ]);
    expect(await stackRunning('controller-2')).toBe(true);
    await waitFor('cluster HEALTHY', async () => (await health()).health === 'HEALTHY', 300_000, 500);
    timings.push(['(a) kill → cluster HEALTHY', seconds(Date.now() - t0)]);
  });

  it('(b) maintenance on: the same kill on controller-3 starts nothing', async () => {
    await owner.ok('mutation($id: ID!) { setMaintenance(clusterId: $id, enabled: true, reason: "lab e2e: hands off") { maintenance { enabled } } }', { id: clusterId });
    const before = (await runs()).map((r) => r.id);
    await killStack('controller-3');
    await waitFor('CLUSTER_STACK_DOWN on controller-3', async () => (await health()).findings.some((f) => f.code === 'CLUSTER_STACK_DOWN' && f.nodeName === 'controller-3'), 60_000, 250);
    await new Promise((r) => setTimeout(r, 15_000));
    expect((await runs()).filter((r) => !before.includes(r.id))).toEqual([]);
    expect(await stackRunning('controller-3')).toBe(false);
  });

  it('(c) policy APPROVAL: nothing until approveRemediation, then the stack is restarted', async () => {
    await owner.ok('mutation($id: ID!) { setRemediationPolicy(clusterId: $id, policy: APPROVAL) { remediationPolicy } }', { id: clusterId });
    await owner.ok('mutation($id: ID!) { setMaintenance(clusterId: $id, enabled: false) { maintenance { enabled } } }', { id: clusterId });
    const waiting = await waitFor('a run awaiting approval', async () => (await runs()).find((r) => r.playbook === 'cluster_stack.recover' && r.nodeName === 'controller-3' && r.status === 'AWAITING_APPROVAL'), 60_000, 500);
    await new Promise((r) => setTimeout(r, 10_000));
    expect((await runs()).find((r) => r.id === waiting.id)?.status).toBe('AWAITING_APPROVAL');
    expect(await stackRunning('controller-3')).toBe(false);
    const t0 = Date.now();
    await owner.ok('mutation($id: ID!) { approveRemediation(runId: $id) { status } }', { id: waiting.id });
    const done = await waitFor('the approved run to end', async () => (await runs()).find((r) => r.id === waiting.id && r.finishedAt), 300_000, 500);
    timings.push(['(c) approval → run finished', seconds(Date.now() - t0)]);
    expect(done.status).toBe('SUCCEEDED');
    await waitFor('cluster HEALTHY', async () => (await health()).health === 'HEALTHY', 300_000, 500);
    timings.push(['(c) approval → cluster HEALTHY', seconds(Date.now() - t0)]);
  });

  it('every acknowledged write is on every controller', async () => {
    const failed = writer?.failed() ?? 0;
    const acked = (await writer?.stop()) ?? [];
    writer = undefined;
    timings.push(['INSERTs through the Galera VIP during the cases: acknowledged / refused', `${acked.length} / ${failed}`]);
    expect(acked.length).toBeGreaterThan(0);
    const tag = acked[0]?.replace(/-\d+$/, '') ?? '';
    for (const node of names()) {
      const rows = await waitFor(
        `every acknowledged row on ${node}`,
        async () => {
          const r = await lab.exec(node, ['/usr/bin/mysql', '-uroot', '-N', '-e', `SELECT v FROM demo.t WHERE v LIKE '${tag}-%'`]);
          const have = new Set(r.stdout.split('\n').filter(Boolean));
          return acked.every((v) => have.has(v)) && have;
        },
        60_000,
        1_000,
      );
      expect(acked.filter((v) => !rows.has(v))).toEqual([]);
    }
  });
});
