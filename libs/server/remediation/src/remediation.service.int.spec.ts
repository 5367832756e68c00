import { ClusterFixture, NodeActionService, Reconciler, testSigner } from '@triad/commands';
import {
  AuditEvent,
  Cluster,
  ClusterHealth,
  Node,
  NodeStatus,
  RemediationAttempt,
  RemediationPolicy,
  RemediationRun,
  RemediationRunStatus,
  RemediationStep,
  RemediationStepStatus,
  Rollout,
  RolloutStatus,
  AuditActorType,
  Finding,
  createDataSource,
} from '@triad/db';
import { createLogger } from '@triad/logging';
import { createTestDatabase, labClusterSpec, labLoopbackAddresses, type TestDatabase } from '@triad/testing';
import type { DataSource } from 'typeorm';
import { remediationConfigSchema } from './config';
import { databaseFindings } from './finding-source';
import { RemediationService } from './remediation.service';
import type { FindingView } from './upstream';

jest.setTimeout(60_000);

const operator = { type: AuditActorType.API_TOKEN, id: '00000000-0000-4000-8000-000000000001' };

describe(RemediationService.name, () => {
  let db: TestDatabase;
  let ds: DataSource;
  let service: RemediationService;
  let reconciler: Reconciler;
  /** Open findings as @triad/health writes them (contract A). */
  const open = {
    async set(clusterId: string, views: FindingView[]): Promise<void> {
      const cluster = await ds.getRepository(Cluster).findOneByOrFail({ id: clusterId });
      await ds.getRepository(Finding).delete({ clusterId });
      for (const v of views) {
        await ds.getRepository(Finding).save({ tenantId: cluster.tenantId, clusterId, component: 'pacemaker', message: v.code, action: 'Triad restarts it', lastSeenAt: new Date(), ...v });
      }
    },
  };
  const logger = createLogger('test', { level: 'silent' });

  const stackDown = (nodeName: string): FindingView => ({
    key: `CLUSTER_STACK_DOWN:${nodeName}:`,
    code: 'CLUSTER_STACK_DOWN',
    severity: 'CRITICAL',
    nodeName,
    subject: null,
    owner: 'TRIAD',
    detail: {},
    firstSeenAt: new Date(Date.now() - 90_000),
  });

  beforeAll(async () => {
    db = await createTestDatabase('remediation');
    ds = await createDataSource(db.url).initialize();
    // No agent answers here: a node action ends EXPIRED after its timeout.
    const config = remediationConfigSchema.parse({ REMEDIATION_POLL_INTERVAL_MS: '50', REMEDIATION_WAIT_TIMEOUT_MS: '500', REMEDIATION_ACTION_TIMEOUT_MS: '1000' });
    reconciler = new Reconciler(ds, testSigner(), { commandTtlMs: 60_000 }, logger);
    service = new RemediationService(ds, databaseFindings(), new NodeActionService(ds, reconciler, logger), reconciler, config, logger);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  async function cluster(policy = RemediationPolicy.AUTOMATIC): Promise<ClusterFixture> {
    const f = await ClusterFixture.create(ds, () => labClusterSpec({ addresses: labLoopbackAddresses(3) }));
    await f.nodes();
    await f.newRevision();
    // A cluster that has been up (remediation holds off while one is still being built).
    await ds.getRepository(Cluster).update({ id: f.clusterId }, { remediationPolicy: policy, health: ClusterHealth.HEALTHY, healthChangedAt: new Date(Date.now() - 3_600_000) });
    return f;
  }
  const runs = (f: ClusterFixture) => ds.getRepository(RemediationRun).find({ where: { clusterId: f.clusterId }, order: { createdAt: 'ASC' } });
  const steps = (runId: string) => ds.getRepository(RemediationStep).find({ where: { runId }, order: { seq: 'ASC' } });
  const audit = (tenantId: string, action: string) => ds.getRepository(AuditEvent).countBy({ tenantId, action });

  it('plans a run with its steps for a finding Triad owns, and only one per cluster', async () => {
    const f = await cluster();
    await open.set(f.clusterId, [stackDown('controller-2')]);
    expect(await service.evaluateCluster(f.tenantId, f.clusterId, null)).toBe(true);
    expect(await service.evaluateCluster(f.tenantId, f.clusterId, null)).toBe(true);
    const [run, ...more] = await runs(f);
    expect(more).toHaveLength(0);
    expect(run).toMatchObject({ playbook: 'cluster_stack.recover', status: RemediationRunStatus.QUEUED, nodeName: 'controller-2', findingKeys: ['CLUSTER_STACK_DOWN:controller-2:'] });
    expect((await steps(run?.id as string)).map((s) => `${s.action}@${s.nodeName}`)).toEqual(['cluster_stack.start@controller-2', 'wait.node_rejoined@controller-2', 'wait.resources_started@controller-2']);
    expect(await audit(f.tenantId, 'remediation.run.created')).toBe(1);
  });

  it('a failed step stops the run (FAILED, the rest skipped), counts the attempt and backs off', async () => {
    const f = await cluster();
    await open.set(f.clusterId, [stackDown('controller-1')]);
    await service.evaluateCluster(f.tenantId, f.clusterId, null);
    while (await service.advance(f.tenantId, f.clusterId));
    const [run] = await runs(f);
    expect(run?.status).toBe(RemediationRunStatus.FAILED);
    expect(run?.reason).toContain('cluster_stack.start on controller-1) failed: no outcome within 1000 ms (the agent never received it)');
    expect((await steps(run?.id as string))[0]).toMatchObject({ commandId: expect.any(String), result: expect.objectContaining({ status: 'EXPIRED' }) });
    expect((await steps(run?.id as string)).map((s) => s.status)).toEqual([RemediationStepStatus.FAILED, RemediationStepStatus.SKIPPED, RemediationStepStatus.SKIPPED]);
    const attempt = await ds.getRepository(RemediationAttempt).findOneByOrFail({ clusterId: f.clusterId });
    expect(attempt.count).toBe(1);
    expect(attempt.nextAttemptAt?.getTime()).toBeGreaterThan(Date.now());
    // Backing off: the finding is still open, but no new run.
    expect(await service.evaluateCluster(f.tenantId, f.clusterId, null)).toBe(false);
    expect(await runs(f)).toHaveLength(1);
  });

  it('escalates once the attempts are used up and never loops', async () => {
    const f = await cluster();
    await open.set(f.clusterId, [stackDown('controller-3')]);
    await ds.getRepository(RemediationAttempt).insert({ tenantId: f.tenantId, clusterId: f.clusterId, findingKey: 'CLUSTER_STACK_DOWN:controller-3:', count: 3, windowStartedAt: new Date(), nextAttemptAt: new Date(0) });
    await service.evaluateCluster(f.tenantId, f.clusterId, null);
    await service.evaluateCluster(f.tenantId, f.clusterId, null);
    const all = await runs(f);
    expect(all.map((r) => r.status)).toEqual([RemediationRunStatus.ESCALATED]);
    expect(await audit(f.tenantId, 'remediation.run.escalated')).toBe(1);
  });

  it('with policy APPROVAL a run waits; approval queues it, rejection ends it', async () => {
    const f = await cluster(RemediationPolicy.APPROVAL);
    await open.set(f.clusterId, [stackDown('controller-2')]);
    expect(await service.evaluateCluster(f.tenantId, f.clusterId, null)).toBe(false);
    const [run] = await runs(f);
    expect(run).toMatchObject({ status: RemediationRunStatus.AWAITING_APPROVAL, awaiting: 'RUN' });
    expect(await service.advance(f.tenantId, f.clusterId)).toBe(false); // nothing drivable
    const approved = await service.approve(f.tenantId, run?.id as string, operator);
    expect(approved.status).toBe(RemediationRunStatus.QUEUED);
    expect(approved.approvals).toMatchObject([{ scope: 'RUN', decision: 'APPROVED', actorId: operator.id }]);
    await expect(service.approve(f.tenantId, run?.id as string, operator)).rejects.toMatchObject({ code: 'NOT_AWAITING_APPROVAL' });

    const g = await cluster(RemediationPolicy.APPROVAL);
    await open.set(g.clusterId, [stackDown('controller-1')]);
    await service.evaluateCluster(g.tenantId, g.clusterId, null);
    const [waiting] = await runs(g);
    await expect(service.reject(g.tenantId, waiting?.id as string, '   ', operator)).rejects.toMatchObject({ details: { field: 'reason' } });
    const rejected = await service.reject(g.tenantId, waiting?.id as string, 'we are replacing this node', operator);
    expect(rejected).toMatchObject({ status: RemediationRunStatus.REJECTED, reason: 'rejected: we are replacing this node' });
    expect((await steps(rejected.id)).every((s) => s.status === RemediationStepStatus.SKIPPED)).toBe(true);
    expect(await audit(g.tenantId, 'remediation.run.rejected')).toBe(1);
  });

  it('maintenance cancels a run not started yet and plans nothing until it is off', async () => {
    const f = await cluster(RemediationPolicy.APPROVAL);
    await open.set(f.clusterId, [stackDown('controller-2')]);
    await service.evaluateCluster(f.tenantId, f.clusterId, null);
    await expect(service.setMaintenance(f.tenantId, f.clusterId, true, '', operator)).rejects.toMatchObject({ details: { field: 'reason' } });
    const c = await service.setMaintenance(f.tenantId, f.clusterId, true, 'replacing controller-2 disks', operator);
    expect(c).toMatchObject({ maintenance: true, maintenanceReason: 'replacing controller-2 disks', maintenanceSetBy: `api_token:${operator.id}` });
    await service.evaluateCluster(f.tenantId, f.clusterId, null);
    await service.evaluateCluster(f.tenantId, f.clusterId, null);
    const all = await runs(f);
    expect(all.map((r) => r.status)).toEqual([RemediationRunStatus.CANCELLED]);
    expect(all[0]?.reason).toBe('maintenance mode turned on: replacing controller-2 disks');
    await service.setMaintenance(f.tenantId, f.clusterId, false, null, operator);
    await service.evaluateCluster(f.tenantId, f.clusterId, null);
    expect((await runs(f)).map((r) => r.status)).toEqual([RemediationRunStatus.CANCELLED, RemediationRunStatus.AWAITING_APPROVAL]);
  });

  it('holds off until the cluster has been HEALTHY once since its bring-up, and while a rollout is changing it', async () => {
    const f = await cluster();
    await ds.getRepository(Cluster).update({ id: f.clusterId }, { health: ClusterHealth.CRITICAL, healthChangedAt: new Date() });
    await open.set(f.clusterId, [stackDown('controller-2')]);
    const change = (to: string, msAgo: number) =>
      ds.getRepository(AuditEvent).save({ tenantId: f.tenantId, actorType: AuditActorType.SYSTEM, actorId: null, action: 'cluster.health.changed', targetType: 'cluster', targetId: f.clusterId, detail: { to }, createdAt: new Date(Date.now() - msAgo) });
    // Never HEALTHY since it got a revision: still being built (DEGRADED → CRITICAL on the way up).
    await change('DEGRADED', 30_000);
    await change('CRITICAL', 20_000);
    expect(await service.evaluateCluster(f.tenantId, f.clusterId, null)).toBe(false);
    expect(await runs(f)).toHaveLength(0);
    // HEALTHY once, for 3 s, then broken right after convergence: built, and a rollout still holds it.
    await change('HEALTHY', 15_000);
    await change('DEGRADED', 12_000);
    const rollout = await ds.getRepository(Rollout).save({ tenantId: f.tenantId, clusterId: f.clusterId, fromRevision: 0, toRevision: 1, status: RolloutStatus.RUNNING });
    expect(await service.evaluateCluster(f.tenantId, f.clusterId, null)).toBe(false);
    await ds.getRepository(Rollout).update({ id: rollout.id }, { status: RolloutStatus.SUCCEEDED });
    // With REMEDIATION_SETTLED_MS set, a HEALTHY moment shorter than it does not count.
    const strict = new RemediationService(ds, databaseFindings(), new NodeActionService(ds, reconciler, logger), reconciler, remediationConfigSchema.parse({ REMEDIATION_SETTLED_MS: '60000' }), logger);
    expect(await strict.evaluateCluster(f.tenantId, f.clusterId, null)).toBe(false);
    expect(await runs(f)).toHaveLength(0);
    expect(await service.evaluateCluster(f.tenantId, f.clusterId, null)).toBe(true);
  });

  it('a frozen tenant gets no run', async () => {
    const f = await cluster();
    await open.set(f.clusterId, [stackDown('controller-2')]);
    expect(await service.evaluateCluster(f.tenantId, f.clusterId, '3 of 3 nodes unreachable')).toBe(false);
    expect(await runs(f)).toHaveLength(0);
  });

  it('records a freeze once when most of a tenant\'s nodes go silent, and a thaw when they are back', async () => {
    const f = await cluster();
    const silent = await cluster(); // another tenant keeps reporting: no global freeze
    await ds.getRepository(Node).update({ tenantId: silent.tenantId }, { status: NodeStatus.UNREACHABLE });
    const frozen = await service.updateFreezes();
    expect(frozen.get(silent.tenantId)).toContain('3 of 3 nodes of the tenant are SUSPECT or UNREACHABLE');
    expect(frozen.has(f.tenantId)).toBe(false);
    await service.updateFreezes();
    expect(await audit(silent.tenantId, 'remediation.frozen')).toBe(1);
    const [event] = await service.freezes(silent.tenantId, 10);
    expect(event?.detail).toMatchObject({ scope: 'TENANT' });
    await ds.getRepository(Node).update({ tenantId: silent.tenantId }, { status: NodeStatus.ONLINE });
    await service.updateFreezes();
    expect(await audit(silent.tenantId, 'remediation.thawed')).toBe(1);
  });

  it('a step a dead worker left RUNNING is not repeated: it fails and the run stops', async () => {
    const f = await cluster();
    await open.set(f.clusterId, [stackDown('controller-2')]);
    await service.evaluateCluster(f.tenantId, f.clusterId, null);
    const [run] = await runs(f);
    await ds.getRepository(RemediationRun).update({ id: run?.id }, { status: RemediationRunStatus.RUNNING, startedAt: new Date() });
    const [first] = await steps(run?.id as string);
    await ds.getRepository(RemediationStep).update({ id: first?.id }, { status: RemediationStepStatus.RUNNING, startedAt: new Date() });
    while (await service.advance(f.tenantId, f.clusterId));
    const [after] = await runs(f);
    expect(after).toMatchObject({ status: RemediationRunStatus.FAILED, reason: 'step 0 (cluster_stack.start) was interrupted' });
    expect((await steps(run?.id as string))[0]?.message).toContain('interrupted');
  });

  it('never acts on a node that became UNREACHABLE after the run was planned', async () => {
    const f = await cluster();
    await open.set(f.clusterId, [stackDown('controller-2')]);
    await service.evaluateCluster(f.tenantId, f.clusterId, null);
    await ds.getRepository(Node).update({ clusterId: f.clusterId, name: 'controller-2' }, { status: NodeStatus.UNREACHABLE });
    while (await service.advance(f.tenantId, f.clusterId));
    const [run] = await runs(f);
    expect(run?.status).toBe(RemediationRunStatus.FAILED);
    expect((await steps(run?.id as string))[0]?.message).toBe('node controller-2 is UNREACHABLE: Triad does not act on a node it cannot hear from');
  });
});
