import { ClusterFixture, CommandsService, NodeActionService, Reconciler, testSigner } from '@triad/commands';
import { AuditActorType, Cluster, ClusterHealth, Command, CommandStatus, Finding, Node, NodeStatus, RemediationRun, RemediationRunStatus, RemediationStep, createDataSource } from '@triad/db';
import { createLogger } from '@triad/logging';
import type { CommandUpdate__Output } from '@triad/protocol';
import { createTestDatabase, labClusterSpec, labLoopbackAddresses, type TestDatabase } from '@triad/testing';
import { IsNull, type DataSource } from 'typeorm';
import { remediationConfigSchema } from './config';
import { databaseFindings } from './finding-source';
import { RemediationService } from './remediation.service';
import type { FindingCode } from './upstream';

jest.setTimeout(60_000);

const operator = { type: AuditActorType.API_TOKEN, id: '00000000-0000-4000-8000-000000000002' };

/** What the simulated agents answer to a node action, and which findings that repair (as health would see it). */
type Behaviour = (nodeName: string, action: string, args: Record<string, unknown>) => { ok: boolean; result?: Record<string, unknown>; resolves?: Array<{ code: FindingCode; nodeName: string | null }> };

/**
 * The runner against a real Postgres, the real NodeActionService (signed run_action commands) and
 * simulated agents answering those commands through CommandsService like the gRPC stream does.
 */
describe(`${RemediationService.name} runner`, () => {
  let db: TestDatabase;
  let ds: DataSource;
  let service: RemediationService;
  let commands: CommandsService;
  const logger = createLogger('test', { level: 'silent' });

  beforeAll(async () => {
    db = await createTestDatabase('remediation_runner');
    ds = await createDataSource(db.url).initialize();
    const config = remediationConfigSchema.parse({ REMEDIATION_POLL_INTERVAL_MS: '50', REMEDIATION_WAIT_TIMEOUT_MS: '5000', REMEDIATION_ACTION_TIMEOUT_MS: '5000' });
    const reconciler = new Reconciler(ds, testSigner(), { commandTtlMs: 60_000 }, logger);
    commands = new CommandsService(ds, reconciler, logger);
    service = new RemediationService(ds, databaseFindings(), new NodeActionService(ds, reconciler, logger), reconciler, config, logger);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  async function cluster(): Promise<ClusterFixture> {
    const f = await ClusterFixture.create(ds, () => labClusterSpec({ addresses: labLoopbackAddresses(3) }));
    await f.nodes();
    await f.newRevision();
    await ds.getRepository(Cluster).update({ id: f.clusterId }, { health: ClusterHealth.HEALTHY, healthChangedAt: new Date(Date.now() - 3_600_000) });
    return f;
  }

  async function openFinding(f: ClusterFixture, code: FindingCode, nodeName: string | null): Promise<void> {
    await ds.getRepository(Finding).save({
      tenantId: f.tenantId,
      clusterId: f.clusterId,
      key: `${code}:${nodeName ?? '*'}:`,
      code,
      severity: 'CRITICAL',
      component: code.startsWith('GALERA') ? 'galera' : 'pacemaker',
      nodeName,
      subject: null,
      message: code,
      owner: 'TRIAD',
      action: 'Triad repairs it',
      detail: {},
      firstSeenAt: new Date(Date.now() - 120_000),
      lastSeenAt: new Date(),
    });
  }

  /** Answers every PENDING run_action command of the tenant until stopped. */
  function agents(f: ClusterFixture, behaviour: Behaviour): { stop: () => Promise<void>; seen: string[] } {
    const seen: string[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const pending = await ds.getRepository(Command).find({ where: { tenantId: f.tenantId, status: CommandStatus.PENDING, verb: 'run_action' }, order: { issuedAt: 'ASC' } });
        for (const c of pending) {
          const node = await ds.getRepository(Node).findOneByOrFail({ id: c.nodeId });
          const { action, args } = c.params as { action: string; args: Record<string, unknown> };
          seen.push(`${action}@${node.name}${args['force'] ? '(force)' : ''}`);
          const answer = behaviour(node.name, action, args);
          const update = (state: CommandUpdate__Output['state'], extra: Partial<CommandUpdate__Output> = {}): CommandUpdate__Output => ({
            commandId: c.id,
            state,
            message: '',
            revision: 0,
            generation: c.generation,
            artifacts: [],
            atMs: Date.now(),
            reason: '',
            resultJson: '',
            ...extra,
          });
          await commands.recordUpdate(f.tenantId, c.nodeId, update('COMMAND_RUNNING'));
          for (const r of answer.resolves ?? []) {
            await ds.getRepository(Finding).update({ clusterId: f.clusterId, code: r.code, nodeName: r.nodeName ?? IsNull(), resolvedAt: IsNull() }, { resolvedAt: new Date() });
          }
          await commands.recordUpdate(
            f.tenantId,
            c.nodeId,
            answer.ok
              ? update('COMMAND_SUCCEEDED', { resultJson: answer.result ? JSON.stringify(answer.result) : '' })
              : update('COMMAND_FAILED', { reason: 'DRIVER_FAILED', message: `${action} failed on ${node.name}` }),
          );
        }
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    return {
      seen,
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }

  const drive = async (f: ClusterFixture) => {
    await service.evaluateCluster(f.tenantId, f.clusterId, null);
    while (await service.advance(f.tenantId, f.clusterId));
  };
  const runs = (f: ClusterFixture) => ds.getRepository(RemediationRun).find({ where: { clusterId: f.clusterId }, order: { createdAt: 'ASC' } });
  const steps = async (f: ClusterFixture) => {
    const [run] = await runs(f);
    return ds.getRepository(RemediationStep).find({ where: { runId: run?.id }, order: { seq: 'ASC' } });
  };

  it('restarts the cluster stack on the node, waits for it to rejoin, and records each step with its command', async () => {
    const f = await cluster();
    await openFinding(f, 'CLUSTER_STACK_DOWN', 'controller-2');
    const a = agents(f, (node, action) => ({ ok: true, resolves: action === 'cluster_stack.start' ? [{ code: 'CLUSTER_STACK_DOWN', nodeName: node }] : [] }));
    await drive(f);
    await a.stop();
    expect(a.seen).toEqual(['cluster_stack.start@controller-2']);
    const [run] = await runs(f);
    expect(run).toMatchObject({ status: RemediationRunStatus.SUCCEEDED, reason: 'every step succeeded' });
    const all = await steps(f);
    expect(all.map((s) => `${s.action}:${s.status}`)).toEqual(['cluster_stack.start:SUCCEEDED', 'wait.node_rejoined:SUCCEEDED', 'wait.resources_started:SUCCEEDED']);
    const command = await ds.getRepository(Command).findOneByOrFail({ id: all[0]?.commandId as string });
    expect(command).toMatchObject({ verb: 'run_action', status: CommandStatus.SUCCEEDED });
    expect(all[0]?.startedAt).toBeInstanceOf(Date);
    expect(all[0]?.finishedAt).toBeInstanceOf(Date);
  });

  it('Galera full outage: every member reports, the highest seqno bootstraps, the others join one at a time, Pacemaker gets galera back', async () => {
    const f = await cluster();
    await openFinding(f, 'GALERA_NO_PRIMARY', null);
    for (const n of f.nodeNames) await openFinding(f, 'GALERA_DOWN', n);
    const seqno: Record<string, number> = { 'controller-1': 10, 'controller-2': 15, 'controller-3': 12 };
    const a = agents(f, (node, action) => {
      if (action === 'galera.report_position') return { ok: true, result: { uuid: 'u-1', seqno: seqno[node], safeToBootstrap: false, running: false } };
      if (action === 'galera.bootstrap') return { ok: true, resolves: [{ code: 'GALERA_NO_PRIMARY', nodeName: null }, { code: 'GALERA_DOWN', nodeName: node }] };
      if (action === 'galera.join') return { ok: true, resolves: [{ code: 'GALERA_DOWN', nodeName: node }] };
      return { ok: true };
    });
    await drive(f);
    await a.stop();
    expect(a.seen).toEqual([
      'pacemaker.set_managed@controller-1',
      'galera.report_position@controller-1',
      'galera.report_position@controller-2',
      'galera.report_position@controller-3',
      'galera.bootstrap@controller-2(force)',
      'galera.join@controller-1',
      'galera.join@controller-3',
      'pacemaker.set_managed@controller-1',
    ]);
    const [run] = await runs(f);
    expect(run?.status).toBe(RemediationRunStatus.SUCCEEDED);
    const elect = (await steps(f)).find((s) => s.action === 'galera.elect');
    expect(elect?.message).toBe('every member reported; controller-2 has the highest seqno 15');
    expect(elect?.result).toMatchObject({ winner: 'controller-2', force: true, positions: { 'controller-1': { seqno: 10 } } });
  });

  it('Galera full outage with a member unable to report: nothing bootstraps until an operator approves; then the reported members come back and galera is given back', async () => {
    const f = await cluster();
    await ds.getRepository(Node).update({ clusterId: f.clusterId, name: 'controller-3' }, { status: NodeStatus.UNREACHABLE });
    await openFinding(f, 'GALERA_NO_PRIMARY', null);
    await openFinding(f, 'GALERA_DOWN', 'controller-1');
    await openFinding(f, 'GALERA_DOWN', 'controller-2');
    const a = agents(f, (node, action) => {
      if (action === 'galera.report_position') return { ok: true, result: { uuid: 'u-1', seqno: node === 'controller-1' ? 20 : 7, safeToBootstrap: false, running: false } };
      if (action === 'galera.bootstrap') return { ok: true, resolves: [{ code: 'GALERA_NO_PRIMARY', nodeName: null }, { code: 'GALERA_DOWN', nodeName: node }] };
      if (action === 'galera.join') return { ok: true, resolves: [{ code: 'GALERA_DOWN', nodeName: node }] };
      return { ok: true };
    });
    await drive(f);
    let [run] = await runs(f);
    expect(run).toMatchObject({ status: RemediationRunStatus.AWAITING_APPROVAL, awaiting: 'BOOTSTRAP_PARTIAL' });
    expect(run?.reason).toContain('controller-3 did not report a position');
    expect(a.seen.some((s) => s.startsWith('galera.bootstrap'))).toBe(false);

    await service.approve(f.tenantId, run?.id as string, operator);
    while (await service.advance(f.tenantId, f.clusterId));
    await a.stop();
    [run] = await runs(f);
    expect(a.seen.slice(-3)).toEqual(['galera.bootstrap@controller-1(force)', 'galera.join@controller-2', 'pacemaker.set_managed@controller-1']);
    // controller-3, which could not report, is not joined now: it rejoins when it is back.
    expect(run?.status).toBe(RemediationRunStatus.SUCCEEDED);
    expect((await steps(f)).filter((s) => s.nodeName === 'controller-3')).toEqual([]);
    expect(run?.approvals).toMatchObject([{ scope: 'BOOTSTRAP_PARTIAL', decision: 'APPROVED', actorId: operator.id }]);
    const giveBack = (await steps(f)).at(-1);
    expect(giveBack).toMatchObject({ action: 'pacemaker.set_managed', args: { resource: 'galera-clone', managed: true }, status: 'SUCCEEDED' });
  });

  it('a step is not taken once the cluster has lost quorum: the run is escalated, no command sent', async () => {
    const f = await cluster();
    await openFinding(f, 'RABBITMQ_DOWN', 'controller-2');
    await service.evaluateCluster(f.tenantId, f.clusterId, null);
    // Between planning and the step, two of three controllers go silent.
    await ds.getRepository(Node).update({ clusterId: f.clusterId, name: 'controller-1' }, { status: NodeStatus.UNREACHABLE });
    await ds.getRepository(Node).update({ clusterId: f.clusterId, name: 'controller-3' }, { status: NodeStatus.UNREACHABLE });
    const a = agents(f, () => ({ ok: true }));
    while (await service.advance(f.tenantId, f.clusterId));
    await a.stop();
    expect(a.seen).toEqual([]);
    const [run] = await runs(f);
    expect(run?.status).toBe(RemediationRunStatus.ESCALATED);
    expect(run?.reason).toContain('the cluster has no quorum (1 of 3 members)');
    expect((await steps(f)).map((s) => s.status)).toEqual(['SKIPPED', 'SKIPPED']);
  });
});
