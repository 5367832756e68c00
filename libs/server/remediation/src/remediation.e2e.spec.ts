import { Finding, Node, NodeStatus, TenantScopedRepository, createDataSource } from '@triad/db';
import { startControlPlane, waitFor, type ControlPlane } from '@triad/testing';
import type { GraphQLClient } from '@triad/testing';
import type { DataSource } from 'typeorm';

jest.setTimeout(180_000);

const CREATE_CLOUD = 'mutation($name: String!) { createCloud(name: $name) { id } }';
const CREATE_CLUSTER = 'mutation($cloudId: ID!, $name: String!) { createCluster(cloudId: $cloudId, name: $name) { id remediationPolicy maintenance { enabled } } }';
const CREATE_TOKEN = 'mutation($name: String!, $role: ApiTokenRole!) { createApiToken(name: $name, role: $role) { secret } }';
const SET_POLICY = 'mutation($clusterId: ID!, $policy: RemediationPolicy!) { setRemediationPolicy(clusterId: $clusterId, policy: $policy) { id remediationPolicy } }';
const SET_MAINTENANCE = 'mutation($clusterId: ID!, $enabled: Boolean!, $reason: String) { setMaintenance(clusterId: $clusterId, enabled: $enabled, reason: $reason) { maintenance { enabled reason setBy since } } }';
const RUNS = `query($id: ID!) { cluster(id: $id) { remediationRuns(first: 10) { edges { node {
  id playbook status awaiting reason findingKeys nodeName approvals { scope decision actorType }
  steps { seq nodeName action status commandId message startedAt finishedAt } } } } } }`;
const RUN = 'query($id: ID!) { remediationRun(id: $id) { id status reason steps { action status commandId message } } }';
const APPROVE = 'mutation($runId: ID!) { approveRemediation(runId: $runId) { id status approvals { scope decision } } }';
const REJECT = 'mutation($runId: ID!, $reason: String!) { rejectRemediation(runId: $runId, reason: $reason) { id status } }';
const FREEZES = '{ remediationFreezes(first: 5) { event scope reason at } }';

interface RunView {
  id: string;
  playbook: string;
  status: string;
  awaiting: string | null;
  reason: string | null;
  findingKeys: string[];
  nodeName: string | null;
  approvals: Array<{ scope: string; decision: string; actorType: string }>;
  steps: Array<{ seq: number; nodeName: string | null; action: string; status: string; commandId: string | null; message: string | null }>;
}

/**
 * The api and worker processes as operators run them: the worker's sweep plans runs from the
 * findings table, the api serves policy, maintenance, approvals and freezes. No agents: node
 * actions end EXPIRED, which is enough to see a run through its whole life.
 */
describe('remediation through the control plane', () => {
  let cp: ControlPlane;
  let ds: DataSource;
  let owner: GraphQLClient;
  let operator: GraphQLClient;
  let viewer: GraphQLClient;
  let tenantId: string;

  beforeAll(async () => {
    // Long heartbeat interval: the liveness sweeper must not turn the hand-made nodes SUSPECT.
    cp = await startControlPlane({
      heartbeatIntervalMs: 600_000,
      logLevel: 'info',
      env: { REMEDIATION_SWEEP_INTERVAL_MS: '500', REMEDIATION_ACTION_TIMEOUT_MS: '2000', REMEDIATION_POLL_INTERVAL_MS: '200' },
    });
    owner = cp.client(await cp.bootstrapTenant('remediation-e2e'));
    const token = async (role: string) => owner.withToken((await owner.ok<{ createApiToken: { secret: string } }>(CREATE_TOKEN, { name: role, role })).createApiToken.secret);
    operator = await token('OPERATOR');
    viewer = await token('VIEWER');
    ds = await createDataSource(cp.db.url).initialize();
    [{ id: tenantId }] = (await ds.query('SELECT id FROM tenants')) as Array<{ id: string }>;
  });

  afterAll(async () => {
    await ds?.destroy();
    await cp?.stop();
  });

  async function newCluster(name: string): Promise<string> {
    const { createCloud } = await owner.ok<{ createCloud: { id: string } }>(CREATE_CLOUD, { name: `${name}-cloud` });
    const { createCluster } = await owner.ok<{ createCluster: { id: string; remediationPolicy: string; maintenance: { enabled: boolean } } }>(CREATE_CLUSTER, { cloudId: createCloud.id, name });
    expect(createCluster).toMatchObject({ remediationPolicy: 'AUTOMATIC', maintenance: { enabled: false } });
    // A cluster that has been up: remediation holds off while one is still being built.
    await ds.query(`UPDATE clusters SET health = 'HEALTHY', health_changed_at = now() - interval '1 hour' WHERE id = $1`, [createCluster.id]);
    for (const n of ['controller-1', 'controller-2', 'controller-3']) {
      await new TenantScopedRepository(ds.manager, Node).insert(tenantId, { clusterId: createCluster.id, name: n, status: NodeStatus.ONLINE, enrolledAt: new Date() });
    }
    return createCluster.id;
  }

  async function stackDown(clusterId: string, nodeName: string): Promise<void> {
    await ds.getRepository(Finding).save({
      tenantId,
      clusterId,
      key: `CLUSTER_STACK_DOWN:${nodeName}:`,
      code: 'CLUSTER_STACK_DOWN',
      severity: 'CRITICAL',
      component: 'corosync',
      nodeName,
      subject: null,
      message: `corosync and pacemakerd are not running on ${nodeName}`,
      owner: 'TRIAD',
      action: 'Triad restarts the cluster stack',
      detail: {},
      firstSeenAt: new Date(Date.now() - 120_000),
      lastSeenAt: new Date(),
    });
  }

  const runs = async (clusterId: string) => (await owner.ok<{ cluster: { remediationRuns: { edges: Array<{ node: RunView }> } } }>(RUNS, { id: clusterId })).cluster.remediationRuns.edges.map((e) => e.node);

  it('policy and maintenance: operator sets them, a viewer is FORBIDDEN, bad input names the field', async () => {
    const clusterId = await newCluster('settings');
    const forbidden = await viewer.request(SET_POLICY, { clusterId, policy: 'OFF' });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await operator.ok<{ setRemediationPolicy: { remediationPolicy: string } }>(SET_POLICY, { clusterId, policy: 'APPROVAL' })).setRemediationPolicy.remediationPolicy).toBe('APPROVAL');

    const noReason = await operator.request(SET_MAINTENANCE, { clusterId, enabled: true });
    expect(noReason.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    const unknown = await operator.request(SET_MAINTENANCE, { clusterId: 'not-a-cluster', enabled: true, reason: 'x' });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'clusterId' });
    const on = await operator.ok<{ setMaintenance: { maintenance: { enabled: boolean; reason: string; setBy: string; since: string } } }>(SET_MAINTENANCE, { clusterId, enabled: true, reason: 'disk swap' });
    expect(on.setMaintenance.maintenance).toMatchObject({ enabled: true, reason: 'disk swap', setBy: expect.stringMatching(/^api_token:/) });
    const audited = (await ds.query(`SELECT action FROM audit_events WHERE target_id = $1 ORDER BY created_at`, [clusterId])) as Array<{ action: string }>;
    expect(audited.map((a) => a.action)).toEqual(expect.arrayContaining(['remediation.policy.changed', 'remediation.maintenance.on']));

    // Maintenance: a finding Triad owns plans nothing at all.
    await stackDown(clusterId, 'controller-2');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await runs(clusterId)).toEqual([]);
  });

  it('APPROVAL: the worker plans a run that waits; approval lets it run; with no agent its step expires and the run FAILS', async () => {
    const clusterId = await newCluster('approval');
    await operator.ok(SET_POLICY, { clusterId, policy: 'APPROVAL' });
    await stackDown(clusterId, 'controller-2');
    const planned = await waitFor('a planned run', async () => (await runs(clusterId))[0], 30_000, 200);
    expect(planned).toMatchObject({ playbook: 'cluster_stack.recover', status: 'AWAITING_APPROVAL', awaiting: 'RUN', nodeName: 'controller-2', findingKeys: ['CLUSTER_STACK_DOWN:controller-2:'] });
    expect(planned.steps.map((s) => s.action)).toEqual(['cluster_stack.start', 'wait.node_rejoined', 'wait.resources_started']);
    // Nothing happens without approval.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await runs(clusterId))[0]?.status).toBe('AWAITING_APPROVAL');

    expect((await viewer.request(APPROVE, { runId: planned.id })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await operator.request(APPROVE, { runId: 'nope' })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'runId' });
    const approved = await operator.ok<{ approveRemediation: { status: string; approvals: unknown[] } }>(APPROVE, { runId: planned.id });
    expect(approved.approveRemediation).toMatchObject({ status: 'QUEUED', approvals: [{ scope: 'RUN', decision: 'APPROVED' }] });
    expect((await operator.request(APPROVE, { runId: planned.id })).errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const ended = await waitFor(
      'the run to end',
      async () => {
        const r = (await owner.ok<{ remediationRun: { status: string; reason: string; steps: RunView['steps'] } }>(RUN, { id: planned.id })).remediationRun;
        return r.status === 'FAILED' ? r : undefined;
      },
      60_000,
      250,
    );
    expect(ended.reason).toContain('cluster_stack.start on controller-2) failed: no outcome within 2000 ms');
    expect(ended.steps[0]).toMatchObject({ action: 'cluster_stack.start', status: 'FAILED', commandId: expect.any(String) });
    expect(ended.steps.slice(1).map((s) => s.status)).toEqual(['SKIPPED', 'SKIPPED']);
    const actions = (await ds.query(`SELECT action FROM audit_events WHERE target_id = $1`, [planned.id])) as Array<{ action: string }>;
    expect(new Set(actions.map((a) => a.action))).toEqual(new Set(['remediation.run.created', 'remediation.run.approved', 'remediation.run.started', 'remediation.step.changed', 'remediation.run.finished']));
  });

  it('rejectRemediation needs a reason and ends the run REJECTED', async () => {
    const clusterId = await newCluster('reject');
    await operator.ok(SET_POLICY, { clusterId, policy: 'APPROVAL' });
    await stackDown(clusterId, 'controller-1');
    const planned = await waitFor('a planned run', async () => (await runs(clusterId))[0], 30_000, 200);
    expect((await operator.request(REJECT, { runId: planned.id, reason: ' ' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect((await operator.ok<{ rejectRemediation: { status: string } }>(REJECT, { runId: planned.id, reason: 'node is being replaced' })).rejectRemediation.status).toBe('REJECTED');
  });

  it('every node cut off from the control plane: no run starts, a freeze event says why', async () => {
    const clusterId = await newCluster('freeze');
    await ds.query(`UPDATE nodes SET status = 'UNREACHABLE'`);
    await stackDown(clusterId, 'controller-3');
    const [freeze] = await waitFor(
      'a freeze event',
      async () => {
        const f = (await viewer.ok<{ remediationFreezes: Array<{ event: string; scope: string; reason: string }> }>(FREEZES)).remediationFreezes;
        return f.length ? f : undefined;
      },
      30_000,
      200,
    );
    expect(freeze).toMatchObject({ event: 'FROZEN', scope: 'GLOBAL' });
    expect(freeze?.reason).toContain('SUSPECT or UNREACHABLE');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await runs(clusterId)).toEqual([]);
  });
});
