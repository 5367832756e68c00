import { Reconciler, awaitCommandOutcome, lockCluster } from '@triad/commands';
import {
  AuditEvent,
  Cluster,
  ClusterHealth,
  ClusterRevision,
  CommandStatus,
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
  SYSTEM_ACTOR,
  TenantScopedRepository,
  recordAudit,
  tenantTransaction,
  type AuditActor,
  type Page,
  type PageRequest,
  type RemediationApproval,
} from '@triad/db';
import type { Logger } from '@triad/logging';
import { specNodeNames, type ClusterSpec } from '@triad/spec';
import { CIB_IDS } from '@triad/render';
import { In, Not, type DataSource, type EntityManager } from 'typeorm';
import { freezeThresholds, remediationLimits, type RemediationConfig } from './config';
import type { FindingSource } from './finding-source';
import {
  checkQuorum,
  electBootstrapNode,
  isGiveBack,
  massFailureFreeze,
  nextAttemptAt,
  planRemediation,
  quorumHeld,
  stopsWithoutQuorum,
  quorumView,
  stepsAfterElection,
  waitSatisfied,
  type GaleraPosition,
  type NodeLiveness,
  type PlannedStep,
  type StepAction,
} from './remediation-plan';
import { RemediationException, RemediationExceptionCode } from './remediation.exception';
import { NODE_ACTION_NAMES, type FindingView, type NodeActionName, type NodeActions } from './upstream';

export const ACTIVE_RUN_STATUSES: readonly RemediationRunStatus[] = [RemediationRunStatus.AWAITING_APPROVAL, RemediationRunStatus.QUEUED, RemediationRunStatus.RUNNING];
const DRIVABLE: readonly RemediationRunStatus[] = [RemediationRunStatus.QUEUED, RemediationRunStatus.RUNNING];

export const FREEZE_ACTIONS = { frozen: 'remediation.frozen', thawed: 'remediation.thawed' } as const;

/** How a run that stopped early ends; stored on its skipped steps so the end survives a crash. */
type StopKind = RemediationRunStatus.FAILED | RemediationRunStatus.ESCALATED | RemediationRunStatus.REJECTED | RemediationRunStatus.CANCELLED;
const STOP_PRECEDENCE: readonly RemediationRunStatus[] = [RemediationRunStatus.FAILED, RemediationRunStatus.ESCALATED, RemediationRunStatus.REJECTED, RemediationRunStatus.CANCELLED];

const NODE_ACTIONS: readonly string[] = NODE_ACTION_NAMES;

interface StepWork {
  run: RemediationRun;
  step: RemediationStep;
  node: Node | null;
  quorumBefore: boolean;
}

interface StepOutcome {
  ok: boolean;
  commandId?: string | null;
  result?: Record<string, unknown> | null;
  message: string;
}

/**
 * Remediation runs kept in Postgres: `evaluateCluster` plans (remediation-plan.ts) under the
 * cluster lock and writes the run; `advance` takes one step at a time — claim it in one
 * transaction, run it outside any transaction (a node action takes seconds to minutes), record the
 * result in another. Any worker can continue any run from the rows.
 */
export class RemediationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly findings: FindingSource,
    private readonly actions: NodeActions,
    private readonly reconciler: Reconciler,
    private readonly config: RemediationConfig,
    private readonly logger: Logger,
  ) {}

  // ---- evaluation ----

  /** The sweep: freezes, then every cluster evaluated. Returns the clusters with a run to drive. */
  async sweep(now = new Date()): Promise<Array<{ tenantId: string; clusterId: string }>> {
    const frozen = await this.updateFreezes(now);
    // A system query across tenants (the sweep); each cluster is then evaluated tenant-scoped.
    const clusters: Array<{ tenant_id: string; id: string }> = await this.dataSource.query(
      `SELECT c.tenant_id, c.id FROM clusters c
        WHERE c.current_revision > 0
           OR EXISTS (SELECT 1 FROM remediation_runs r WHERE r.cluster_id = c.id AND r.status IN ('AWAITING_APPROVAL', 'QUEUED', 'RUNNING'))
           OR EXISTS (SELECT 1 FROM findings f WHERE f.cluster_id = c.id AND f.resolved_at IS NULL)
        LIMIT 1000`,
    );
    const drive: Array<{ tenantId: string; clusterId: string }> = [];
    for (const c of clusters) {
      try {
        if (await this.evaluateCluster(c.tenant_id, c.id, frozen.get(c.tenant_id) ?? null, now)) drive.push({ tenantId: c.tenant_id, clusterId: c.id });
      } catch (err) {
        this.logger.error({ err, tenantId: c.tenant_id, clusterId: c.id }, 'remediation evaluation failed');
      }
    }
    return drive;
  }

  /**
   * Mass-failure freeze from every tenant's node liveness; a freeze or thaw is recorded (audit
   * `remediation.frozen` / `remediation.thawed`) only when it changes. Returns the frozen tenants.
   */
  async updateFreezes(now = new Date()): Promise<Map<string, string>> {
    const rows: Array<{ tenant_id: string; statuses: NodeLiveness[] }> = await this.dataSource.query(
      `SELECT t.id AS tenant_id, COALESCE(array_agg(n.status::text) FILTER (WHERE n.id IS NOT NULL), '{}') AS statuses
         FROM tenants t LEFT JOIN nodes n ON n.tenant_id = t.id AND n.enrolled_at IS NOT NULL AND n.status NOT IN ('DECOMMISSIONED', 'PENDING')
        GROUP BY t.id`,
    );
    const decision = massFailureFreeze(
      rows.map((r) => ({ tenantId: r.tenant_id, statuses: r.statuses })),
      freezeThresholds(this.config),
    );
    const frozen = new Map<string, string>();
    for (const r of rows) {
      const reason = decision.global ?? decision.tenants.get(r.tenant_id);
      if (reason) frozen.set(r.tenant_id, reason);
    }
    const last: Array<{ tenant_id: string; action: string; reason: string | null }> = await this.dataSource.query(
      `SELECT DISTINCT ON (tenant_id) tenant_id, action, detail->>'reason' AS reason FROM audit_events
        WHERE action IN ($1, $2) ORDER BY tenant_id, created_at DESC`,
      [FREEZE_ACTIONS.frozen, FREEZE_ACTIONS.thawed],
    );
    const lastBy = new Map(last.map((l) => [l.tenant_id, l]));
    for (const r of rows) {
      const reason = frozen.get(r.tenant_id);
      const prev = lastBy.get(r.tenant_id);
      const wasFrozen = prev?.action === FREEZE_ACTIONS.frozen;
      if (reason && (!wasFrozen || prev?.reason !== reason)) {
        await tenantTransaction(this.dataSource, r.tenant_id, (trx) =>
          recordAudit(trx, r.tenant_id, SYSTEM_ACTOR, { action: FREEZE_ACTIONS.frozen, targetType: 'tenant', targetId: r.tenant_id, detail: { scope: decision.global ? 'GLOBAL' : 'TENANT', reason, at: now.toISOString() } }),
        );
        this.logger.warn({ tenantId: r.tenant_id, reason, global: decision.global !== null }, 'remediation frozen');
      } else if (!reason && wasFrozen) {
        await tenantTransaction(this.dataSource, r.tenant_id, (trx) =>
          recordAudit(trx, r.tenant_id, SYSTEM_ACTOR, { action: FREEZE_ACTIONS.thawed, targetType: 'tenant', targetId: r.tenant_id, detail: { reason: 'enough nodes report again', at: now.toISOString() } }),
        );
        this.logger.info({ tenantId: r.tenant_id }, 'remediation thawed');
      }
    }
    return frozen;
  }

  /** Plans the cluster's next run (or ends a run nobody should start any more). Returns whether a run is there to drive. */
  async evaluateCluster(tenantId: string, clusterId: string, freeze: string | null, now = new Date()): Promise<boolean> {
    return tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const cluster = await lockCluster(trx, tenantId, clusterId);
      if (!cluster) return false;
      const findings = await this.findings(trx, tenantId, clusterId);
      const runs = new TenantScopedRepository(trx, RemediationRun);
      let active: RemediationRun | undefined = (await runs.find(tenantId, { clusterId, status: In([...ACTIVE_RUN_STATUSES]) }, { createdAt: 'ASC' }, 1))[0];
      if (active && active.status !== RemediationRunStatus.RUNNING) {
        const open = new Set(findings.map((f) => f.key));
        const stale = !active.findingKeys.every((k) => open.has(k));
        const blocked = cancelReason(cluster, freeze);
        if (stale || blocked) {
          await this.stopRun(trx, active, RemediationRunStatus.CANCELLED, blocked ?? 'its findings cleared before it started', now);
          active = undefined;
        }
      }
      // What the planner answers 'none' to before looking at anything else: skip the reads it needs.
      if (active || cancelReason(cluster, freeze)) return active !== undefined && DRIVABLE.includes(active.status);
      const hold = await this.holdReason(trx, cluster, now);
      if (hold) return false;
      const nodes = await this.clusterNodes(trx, tenantId, clusterId);
      const decision = planRemediation({
        now,
        policy: cluster.remediationPolicy,
        maintenance: cluster.maintenance,
        freeze,
        hold,
        activeRun: null,
        findings,
        nodes: nodes.map((n) => ({ name: n.name, status: n.status })),
        expectedMembers: await this.expectedMembers(trx, cluster, nodes.length),
        attempts: await new TenantScopedRepository(trx, RemediationAttempt).find(tenantId, { clusterId }),
        limits: remediationLimits(this.config),
        galeraResource: CIB_IDS.galeraClone,
        rabbitmqResource: CIB_IDS.rabbitmqClone,
        pinned: findings.some((f) => f.code === 'CONFIG_DRIFT') ? await this.pinnedNodes(trx, cluster, nodes) : null,
      });
      if (decision.kind === 'escalate') {
        const run = await runs.insert(tenantId, { clusterId, playbook: decision.playbook, findingKeys: decision.findingKeys, nodeName: decision.nodeName, status: RemediationRunStatus.ESCALATED, reason: decision.reason, finishedAt: now });
        await new TenantScopedRepository(trx, RemediationAttempt).update(tenantId, { clusterId, findingKey: In(decision.findingKeys) }, { escalatedAt: now });
        await recordAudit(trx, tenantId, SYSTEM_ACTOR, { action: 'remediation.run.escalated', targetType: 'remediation_run', targetId: run.id, detail: { clusterId, findingKeys: decision.findingKeys, reason: decision.reason } });
        this.logger.warn({ tenantId, clusterId, runId: run.id, reason: decision.reason }, 'remediation escalated');
      } else if (decision.kind === 'run') {
        const status = decision.awaitingApproval ? RemediationRunStatus.AWAITING_APPROVAL : RemediationRunStatus.QUEUED;
        const run = await runs.insert(tenantId, {
          clusterId,
          playbook: decision.playbook,
          findingKeys: decision.findingKeys,
          nodeName: decision.nodeName,
          status,
          awaiting: decision.awaitingApproval ? 'RUN' : null,
          reason: decision.reason,
        });
        const steps = new TenantScopedRepository(trx, RemediationStep);
        let seq = 0;
        for (const s of decision.steps) await steps.insert(tenantId, { runId: run.id, seq: seq++, nodeName: s.nodeName, action: s.action, args: s.args });
        await recordAudit(trx, tenantId, SYSTEM_ACTOR, {
          action: 'remediation.run.created',
          targetType: 'remediation_run',
          targetId: run.id,
          detail: { clusterId, playbook: run.playbook, findingKeys: run.findingKeys, nodeName: run.nodeName, status, steps: decision.steps.map((s) => `${s.action}@${s.nodeName ?? '*'}`) },
        });
        this.logger.info({ tenantId, clusterId, runId: run.id, playbook: run.playbook, status, reason: decision.reason }, 'remediation run planned');
        active = run;
      }
      return active !== undefined && DRIVABLE.includes(active.status);
    });
  }

  // ---- driving ----

  /** One step of the cluster's drivable run. Returns whether there is more to do now. */
  async advance(tenantId: string, clusterId: string, now = new Date()): Promise<boolean> {
    const work = await tenantTransaction(this.dataSource, tenantId, (trx) => this.claimStep(trx, tenantId, clusterId, now));
    if (work === 'idle') return false;
    if (work === 'again') return true;
    const log = this.logger.child({ tenantId, clusterId, runId: work.run.id, seq: work.step.seq, action: work.step.action, nodeName: work.step.nodeName });
    log.info('remediation step started');
    const outcome = await this.execute(work).catch((err: unknown): StepOutcome => ({ ok: false, message: `step failed: ${err instanceof Error ? err.message : String(err)}` }));
    log.info({ ok: outcome.ok, commandId: outcome.commandId, message: outcome.message }, 'remediation step finished');
    await tenantTransaction(this.dataSource, tenantId, (trx) => this.recordStep(trx, work, outcome, new Date()));
    return true;
  }

  private async claimStep(trx: EntityManager, tenantId: string, clusterId: string, now: Date): Promise<StepWork | 'idle' | 'again'> {
    const cluster = await lockCluster(trx, tenantId, clusterId);
    if (!cluster) return 'idle';
    const runs = new TenantScopedRepository(trx, RemediationRun);
    const [run] = await runs.find(tenantId, { clusterId, status: In([...DRIVABLE]) }, { createdAt: 'ASC' }, 1);
    if (!run) return 'idle';
    const stepsRepo = new TenantScopedRepository(trx, RemediationStep);
    const steps = await stepsRepo.find(tenantId, { runId: run.id }, { seq: 'ASC' });

    if (run.status === RemediationRunStatus.QUEUED) {
      await runs.update(tenantId, { id: run.id }, { status: RemediationRunStatus.RUNNING, startedAt: now });
      run.status = RemediationRunStatus.RUNNING;
      run.startedAt = now;
      await this.countAttempt(trx, run, now);
      await recordAudit(trx, tenantId, SYSTEM_ACTOR, { action: 'remediation.run.started', targetType: 'remediation_run', targetId: run.id, detail: { clusterId, playbook: run.playbook } });
    }

    // Crash safety: a step still RUNNING here was claimed by a worker that died; its action may or
    // may not have happened, so it is not repeated blindly: the step fails and the run stops.
    const interrupted = steps.find((s) => s.status === RemediationStepStatus.RUNNING);
    if (interrupted) {
      await this.setStep(trx, run, interrupted, RemediationStepStatus.FAILED, { message: 'interrupted: the worker running this step stopped; its outcome is unknown', finishedAt: now });
      await this.stopRun(trx, run, RemediationRunStatus.FAILED, `step ${interrupted.seq} (${interrupted.action}) was interrupted`, now);
      return 'again';
    }

    const stopping = steps.some((s) => s.status === RemediationStepStatus.FAILED || (s.status === RemediationStepStatus.SKIPPED && s.result?.['stoppedAs']));
    if (!stopping) {
      const blocked = cancelReason(cluster, await this.frozenReason(trx, tenantId));
      if (blocked) {
        await this.stopRun(trx, run, RemediationRunStatus.CANCELLED, blocked, now);
        return 'again';
      }
    }
    const next = steps.find((s) => s.status === RemediationStepStatus.PENDING && (!stopping || isGiveBack(s)));
    if (!next) {
      await this.finishRun(trx, run, steps, now);
      return 'again';
    }

    const { nodes, view } = await this.quorumViewOf(trx, cluster);
    const planned: PlannedStep = { nodeName: next.nodeName, action: next.action as StepAction, args: next.args };
    const quorum = isGiveBack(planned) ? { ok: true as const } : checkQuorum(view, planned);
    if (!quorum.ok) {
      await this.setStep(trx, run, next, RemediationStepStatus.SKIPPED, { message: `not taken: ${quorum.reason}`, finishedAt: now, result: { stoppedAs: RemediationRunStatus.ESCALATED } });
      await this.stopRun(trx, run, RemediationRunStatus.ESCALATED, quorum.reason, now);
      return 'again';
    }
    const node = next.nodeName ? (nodes.find((n) => n.name === next.nodeName) ?? null) : null;
    if (next.nodeName && NODE_ACTIONS.includes(next.action) && node?.status !== NodeStatus.ONLINE) {
      const message = `node ${next.nodeName} is ${node?.status ?? 'gone'}: Triad does not act on a node it cannot hear from`;
      await this.setStep(trx, run, next, RemediationStepStatus.FAILED, { message, finishedAt: now });
      await this.stopRun(trx, run, RemediationRunStatus.FAILED, `step ${next.seq} (${next.action}) not taken: ${message}`, now);
      return 'again';
    }
    await this.setStep(trx, run, next, RemediationStepStatus.RUNNING, { startedAt: now });
    return { run, step: next, node, quorumBefore: quorumHeld(view) };
  }

  private async execute(work: StepWork): Promise<StepOutcome> {
    const { run, step, node } = work;
    if (NODE_ACTIONS.includes(step.action)) {
      if (!node) return { ok: false, message: `node ${step.nodeName ?? '?'} not found` };
      const r = await this.actions.run(run.tenantId, node.id, step.action as NodeActionName, step.args, {
        timeoutMs: this.config.REMEDIATION_ACTION_TIMEOUT_MS,
        reason: `remediation run ${run.id} (${run.playbook}) step ${step.seq}`,
      });
      return { ok: r.status === 'SUCCEEDED', commandId: r.commandId || null, result: { status: r.status, durationMs: r.durationMs, ...(r.result ?? {}) }, message: r.message || r.status };
    }
    if (step.action === 'apply_revision') return this.reapplyRevision(run, node);
    if (step.action === 'galera.elect') return { ok: true, message: 'election decided when recorded' };
    return this.waitFor(run, step);
  }

  /** The desired revision again, through the reconciler's own command path, then its outcome. */
  private async reapplyRevision(run: RemediationRun, node: Node | null): Promise<StepOutcome> {
    if (!node) return { ok: false, message: 'node not found' };
    const issued = await tenantTransaction(this.dataSource, run.tenantId, async (trx) => {
      const cluster = await lockCluster(trx, run.tenantId, run.clusterId);
      const revision = cluster ? await new TenantScopedRepository(trx, ClusterRevision).findOne(run.tenantId, { clusterId: run.clusterId, revision: cluster.currentRevision }) : null;
      if (!cluster || !revision) return 'the cluster has no desired revision';
      // Checked again when sending (the plan may be older than a new revision or a failed rollout).
      const current = await new TenantScopedRepository(trx, Node).findById(run.tenantId, node.id);
      const pinned = await this.pinnedNodes(trx, cluster, current ? [current] : []);
      if (pinned) return `${node.name} is pinned to its revision: ${pinned.reason}`;
      return this.reconciler.issueApplyRevision(trx, node, revision, new Date());
    });
    if (typeof issued === 'string') return { ok: false, message: issued };
    const { row: c, done } = await awaitCommandOutcome(this.dataSource, run.tenantId, issued.commandId, {
      deadline: Date.now() + this.config.REMEDIATION_ACTION_TIMEOUT_MS,
      pollMs: this.config.REMEDIATION_POLL_INTERVAL_MS,
    });
    if (!c || !done) return { ok: false, commandId: issued.commandId, message: `apply_revision ${issued.revision} did not finish in ${this.config.REMEDIATION_ACTION_TIMEOUT_MS} ms` };
    return { ok: c.status === CommandStatus.SUCCEEDED, commandId: c.id, result: { status: c.status, revision: issued.revision }, message: `apply_revision ${issued.revision}: ${c.status}` };
  }

  private async waitFor(run: RemediationRun, step: RemediationStep): Promise<StepOutcome> {
    const started = Date.now();
    const planned: PlannedStep = { nodeName: step.nodeName, action: step.action as StepAction, args: step.args };
    const timeoutMs = planned.action === 'wait.resource_recovered' ? this.config.REMEDIATION_CLEANUP_WAIT_TIMEOUT_MS : this.config.REMEDIATION_WAIT_TIMEOUT_MS;
    for (;;) {
      const done = await tenantTransaction(
        this.dataSource,
        run.tenantId,
        async (trx) => {
          const cluster = await new TenantScopedRepository(trx, Cluster).findById(run.tenantId, run.clusterId);
          const findings = await this.findings(trx, run.tenantId, run.clusterId);
          const node = step.nodeName ? await new TenantScopedRepository(trx, Node).findOne(run.tenantId, { clusterId: run.clusterId, name: step.nodeName }) : null;
          return waitSatisfied(planned, findings, node ? { status: node.status, appliedRevision: node.appliedRevision } : undefined, cluster?.currentRevision ?? 0);
        },
        { readOnly: true },
      );
      const waited = Date.now() - started;
      if (done) return { ok: true, result: { waitedMs: waited }, message: `condition met after ${waited} ms` };
      if (waited > timeoutMs) return { ok: false, result: { waitedMs: waited }, message: `not met within ${timeoutMs} ms` };
      await sleep(this.config.REMEDIATION_POLL_INTERVAL_MS);
    }
  }

  private async recordStep(trx: EntityManager, work: StepWork, outcome: StepOutcome, now: Date): Promise<void> {
    const { step } = work;
    const cluster = await lockCluster(trx, work.run.tenantId, work.run.clusterId);
    const run = await new TenantScopedRepository(trx, RemediationRun).findById(work.run.tenantId, work.run.id);
    if (!run) return;
    if (step.action === 'galera.elect' && outcome.ok) return this.elect(trx, run, step, now);
    await this.setStep(trx, run, step, outcome.ok ? RemediationStepStatus.SUCCEEDED : RemediationStepStatus.FAILED, {
      commandId: outcome.commandId ?? null,
      result: outcome.result ?? null,
      message: outcome.message,
      finishedAt: now,
    });
    if (!outcome.ok) {
      await this.stopRun(trx, run, RemediationRunStatus.FAILED, `step ${step.seq} (${step.action}${step.nodeName ? ` on ${step.nodeName}` : ''}) failed: ${outcome.message}`, now);
      return;
    }
    if (work.quorumBefore && cluster && NODE_ACTIONS.includes(step.action) && stopsWithoutQuorum({ action: step.action as StepAction })) {
      const { view } = await this.quorumViewOf(trx, cluster);
      if (!quorumHeld(view)) await this.stopRun(trx, run, RemediationRunStatus.ESCALATED, `quorum lost after step ${step.seq} (${step.action}); stopping`, now);
    }
  }

  /** The Galera election from the positions the run's report steps recorded. */
  private async elect(trx: EntityManager, run: RemediationRun, step: RemediationStep, now: Date): Promise<void> {
    const stepsRepo = new TenantScopedRepository(trx, RemediationStep);
    const steps = await stepsRepo.find(run.tenantId, { runId: run.id }, { seq: 'ASC' });
    const reports = new Map<string, GaleraPosition>();
    for (const s of steps) {
      if (s.action !== 'galera.report_position' || s.status !== RemediationStepStatus.SUCCEEDED || !s.nodeName || !s.result) continue;
      const r = s.result;
      if (typeof r['seqno'] === 'number') reports.set(s.nodeName, { uuid: String(r['uuid'] ?? ''), seqno: r['seqno'], safeToBootstrap: r['safeToBootstrap'] === true, running: r['running'] === true });
    }
    const members = Array.isArray(step.args['members']) ? (step.args['members'] as string[]) : [];
    const approved = run.approvals.some((a) => a.scope === 'BOOTSTRAP_PARTIAL' && a.decision === 'APPROVED');
    const election = electBootstrapNode(members, reports, approved);
    const positions = Object.fromEntries([...reports].map(([n, p]) => [n, p]));
    if (election.kind === 'needs-approval') {
      await this.setStep(trx, run, step, RemediationStepStatus.PENDING, { message: election.reason, result: { positions, missing: election.missing, candidate: election.candidate }, startedAt: null });
      await new TenantScopedRepository(trx, RemediationRun).update(run.tenantId, { id: run.id }, { status: RemediationRunStatus.AWAITING_APPROVAL, awaiting: 'BOOTSTRAP_PARTIAL', reason: election.reason });
      await recordAudit(trx, run.tenantId, SYSTEM_ACTOR, { action: 'remediation.run.awaiting_approval', targetType: 'remediation_run', targetId: run.id, detail: { scope: 'BOOTSTRAP_PARTIAL', reason: election.reason, positions } });
      return;
    }
    if (election.kind === 'winner') {
      // Only members that reported are joined now: one that could not report (unreachable, after an
      // approved partial bootstrap) rejoins when it is back — its resource agent, or galera.rejoin.
      const added = stepsAfterElection(election.node, election.force, members.filter((m) => reports.has(m)));
      // The give-back steps after the election move behind the new ones.
      const after = steps.filter((s) => s.seq > step.seq);
      for (const s of after.reverse()) await stepsRepo.update(run.tenantId, { id: s.id }, { seq: s.seq + added.length });
      let seq = step.seq + 1;
      for (const s of added) await stepsRepo.insert(run.tenantId, { runId: run.id, seq: seq++, nodeName: s.nodeName, action: s.action, args: s.args });
    }
    await this.setStep(trx, run, step, RemediationStepStatus.SUCCEEDED, { message: election.reason, result: { positions, ...(election.kind === 'winner' ? { winner: election.node, force: election.force } : {}) }, finishedAt: now });
  }

  /** Stops a run: its remaining steps are skipped, except the give-backs (they still run, then the run ends). */
  private async stopRun(trx: EntityManager, run: RemediationRun, as: StopKind, reason: string, now: Date): Promise<void> {
    const stepsRepo = new TenantScopedRepository(trx, RemediationStep);
    const steps = await stepsRepo.find(run.tenantId, { runId: run.id }, { seq: 'ASC' });
    const started = run.startedAt !== null;
    for (const s of steps.filter((x) => x.status === RemediationStepStatus.PENDING && !(started && isGiveBack(x)))) {
      await this.setStep(trx, run, s, RemediationStepStatus.SKIPPED, { message: reason, finishedAt: now, result: { stoppedAs: as } });
    }
    await new TenantScopedRepository(trx, RemediationRun).update(run.tenantId, { id: run.id }, { reason });
    run.reason = reason;
    // setStep keeps `steps` current: no need to read them again.
    const left = steps.filter((s) => s.status === RemediationStepStatus.PENDING);
    if (left.length === 0) await this.finishRun(trx, run, steps, now, as);
    else if (!started) await new TenantScopedRepository(trx, RemediationRun).update(run.tenantId, { id: run.id }, { status: RemediationRunStatus.RUNNING });
  }

  private async finishRun(trx: EntityManager, run: RemediationRun, steps: RemediationStep[], now: Date, stoppedAs?: StopKind): Promise<void> {
    const kinds = new Set<RemediationRunStatus>(stoppedAs ? [stoppedAs] : []);
    for (const s of steps) {
      if (s.status === RemediationStepStatus.FAILED) kinds.add(RemediationRunStatus.FAILED);
      const k = s.result?.['stoppedAs'];
      if (typeof k === 'string') kinds.add(k as RemediationRunStatus);
    }
    const status = STOP_PRECEDENCE.find((k) => kinds.has(k)) ?? RemediationRunStatus.SUCCEEDED;
    const reason = status === RemediationRunStatus.SUCCEEDED ? 'every step succeeded' : run.reason;
    await new TenantScopedRepository(trx, RemediationRun).update(run.tenantId, { id: run.id }, { status, reason, awaiting: null, finishedAt: now });
    run.status = status;
    await recordAudit(trx, run.tenantId, SYSTEM_ACTOR, { action: 'remediation.run.finished', targetType: 'remediation_run', targetId: run.id, detail: { clusterId: run.clusterId, playbook: run.playbook, status, reason } });
    const level = status === RemediationRunStatus.SUCCEEDED ? 'info' : 'warn';
    this.logger[level]({ tenantId: run.tenantId, clusterId: run.clusterId, runId: run.id, status, reason }, 'remediation run finished');
  }

  /** The cluster's nodes and the quorum view of them (findings, expected members) that steps are checked against. */
  private async quorumViewOf(trx: EntityManager, cluster: Cluster): Promise<{ nodes: Node[]; view: ReturnType<typeof quorumView> }> {
    const findings = await this.findings(trx, cluster.tenantId, cluster.id);
    const nodes = await this.clusterNodes(trx, cluster.tenantId, cluster.id);
    const view = quorumView(
      nodes.map((n) => ({ name: n.name, status: n.status })),
      findings,
      await this.expectedMembers(trx, cluster, nodes.length),
    );
    return { nodes, view };
  }

  private async setStep(trx: EntityManager, run: RemediationRun, s: RemediationStep, status: RemediationStepStatus, patch: Partial<RemediationStep>): Promise<void> {
    Object.assign(s, patch, { status });
    const { commandId, result, message, startedAt, finishedAt } = s;
    await new TenantScopedRepository(trx, RemediationStep).update(run.tenantId, { id: s.id }, { status, commandId, result: result as never, message, startedAt, finishedAt });
    await recordAudit(trx, run.tenantId, SYSTEM_ACTOR, {
      action: 'remediation.step.changed',
      targetType: 'remediation_run',
      targetId: run.id,
      detail: { seq: s.seq, action: s.action, nodeName: s.nodeName, status, commandId, message },
    });
  }

  private async countAttempt(trx: EntityManager, run: RemediationRun, now: Date): Promise<void> {
    const repo = new TenantScopedRepository(trx, RemediationAttempt);
    const limits = remediationLimits(this.config);
    for (const findingKey of run.findingKeys) {
      const a = await repo.findOne(run.tenantId, { clusterId: run.clusterId, findingKey });
      if (!a) {
        await repo.insert(run.tenantId, { clusterId: run.clusterId, findingKey, count: 1, windowStartedAt: now, lastAttemptAt: now, nextAttemptAt: nextAttemptAt(1, now, limits) });
        continue;
      }
      const fresh = now.getTime() - a.windowStartedAt.getTime() >= limits.attemptWindowMs;
      const count = fresh ? 1 : a.count + 1;
      await repo.update(run.tenantId, { id: a.id }, { count, windowStartedAt: fresh ? now : a.windowStartedAt, lastAttemptAt: now, nextAttemptAt: nextAttemptAt(count, now, limits), escalatedAt: fresh ? null : a.escalatedAt });
    }
  }

  private clusterNodes(trx: EntityManager, tenantId: string, clusterId: string): Promise<Node[]> {
    return new TenantScopedRepository(trx, Node)
      .find(tenantId, { clusterId, status: Not(NodeStatus.DECOMMISSIONED) }, { name: 'ASC' })
      .then((ns) => ns.filter((n) => n.enrolledAt !== null));
  }

  private async expectedMembers(trx: EntityManager, cluster: Cluster, fallback: number): Promise<number> {
    if (cluster.currentRevision === 0) return fallback;
    const revision = await new TenantScopedRepository(trx, ClusterRevision).findOne(cluster.tenantId, { clusterId: cluster.id, revision: cluster.currentRevision });
    return revision ? specNodeNames(revision.spec as unknown as ClusterSpec).length : fallback;
  }

  /**
   * A cluster being built (never HEALTHY — for at least REMEDIATION_SETTLED_MS, default 0 — since
   * it got a revision: Pacemaker's agents may still be forming Galera and RabbitMQ, slower than any
   * grace) or changed by a rollout is not repaired: Triad would race the resource agents' bootstrap
   * or the rollout's own commands. Once built, a cluster stays built: a failure right after it
   * converged is exactly what remediation is for.
   */
  private async holdReason(trx: EntityManager, cluster: Cluster, now: Date): Promise<string | null> {
    const rolling = await new TenantScopedRepository(trx, Rollout).count(cluster.tenantId, { clusterId: cluster.id, status: In([RolloutStatus.PENDING, RolloutStatus.RUNNING]) });
    if (rolling > 0) return 'a rollout is changing the cluster: remediation waits for it to end';
    const settledMs = this.config.REMEDIATION_SETTLED_MS;
    if (cluster.health === ClusterHealth.HEALTHY && cluster.healthChangedAt && now.getTime() - cluster.healthChangedAt.getTime() >= settledMs) return null;
    // Any earlier HEALTHY period that lasted: from the health changes @triad/health audits.
    const [settled] = (await trx.query(
      `SELECT 1 FROM (
         SELECT detail->>'to' AS health, created_at, lead(created_at) OVER (ORDER BY created_at) AS next_at
           FROM audit_events WHERE tenant_id = $1 AND target_id = $2 AND action = 'cluster.health.changed'
       ) h WHERE h.health = 'HEALTHY' AND COALESCE(h.next_at, $3) - h.created_at >= make_interval(secs => $4) LIMIT 1`,
      [cluster.tenantId, cluster.id, now, settledMs / 1000],
    )) as unknown[];
    const stayed = settledMs > 0 ? ` for ${Math.round(settledMs / 1000)} s` : '';
    return settled ? null : `the cluster has not been HEALTHY${stayed} since its bring-up: Triad does not repair what is still being built`;
  }

  /**
   * Nodes behind the current revision that its rollout did not release (it failed before reaching
   * them): config.reapply must not send it to them. A node already at the revision (its files
   * drifted on disk) gets it again whatever the rollout: nothing new reaches it.
   */
  private async pinnedNodes(trx: EntityManager, cluster: Cluster, nodes: readonly Node[]): Promise<{ nodes: string[]; reason: string } | null> {
    const released = await this.reconciler.releasedNodeNames(trx, cluster.tenantId, cluster.id, cluster.currentRevision);
    const pinned = nodes.filter((n) => n.appliedRevision !== cluster.currentRevision && !released.has(n.name)).map((n) => n.name);
    return pinned.length ? { nodes: pinned, reason: `the rollout of revision ${cluster.currentRevision} did not release it (failed or not yet there); a new revision or retryRollout moves it` } : null;
  }

  private async frozenReason(trx: EntityManager, tenantId: string): Promise<string | null> {
    const [last] = await new TenantScopedRepository(trx, AuditEvent).find(tenantId, { action: In([FREEZE_ACTIONS.frozen, FREEZE_ACTIONS.thawed]) }, { createdAt: 'DESC' }, 1);
    return last?.action === FREEZE_ACTIONS.frozen ? String(last.detail['reason'] ?? 'frozen') : null;
  }

  // ---- operators ----

  async approve(tenantId: string, runId: string, actor: AuditActor): Promise<RemediationRun> {
    return tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const run = await this.requireLocked(trx, tenantId, runId);
      if (run.status !== RemediationRunStatus.AWAITING_APPROVAL || !run.awaiting) {
        throw new RemediationException(`run ${runId} is ${run.status}; only a run AWAITING_APPROVAL can be approved`, RemediationExceptionCode.NOT_AWAITING_APPROVAL, { field: 'runId' });
      }
      const scope = run.awaiting;
      const approvals = [...run.approvals, approval(scope, 'APPROVED', actor, null)];
      const status = scope === 'RUN' ? RemediationRunStatus.QUEUED : RemediationRunStatus.RUNNING;
      await new TenantScopedRepository(trx, RemediationRun).update(tenantId, { id: run.id }, { status, awaiting: null, approvals: approvals as never });
      await recordAudit(trx, tenantId, actor, { action: 'remediation.run.approved', targetType: 'remediation_run', targetId: run.id, detail: { clusterId: run.clusterId, scope, playbook: run.playbook } });
      return Object.assign(run, { status, awaiting: null, approvals });
    });
  }

  async reject(tenantId: string, runId: string, reason: string, actor: AuditActor): Promise<RemediationRun> {
    checkReason(reason);
    return tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const run = await this.requireLocked(trx, tenantId, runId);
      if (run.status !== RemediationRunStatus.AWAITING_APPROVAL || !run.awaiting) {
        throw new RemediationException(`run ${runId} is ${run.status}; only a run AWAITING_APPROVAL can be rejected`, RemediationExceptionCode.NOT_AWAITING_APPROVAL, { field: 'runId' });
      }
      const scope = run.awaiting;
      const approvals = [...run.approvals, approval(scope, 'REJECTED', actor, reason)];
      // A run stopped mid-way (partial bootstrap) still gives its resources back to Pacemaker.
      const resumed = scope === 'BOOTSTRAP_PARTIAL' ? RemediationRunStatus.RUNNING : run.status;
      await new TenantScopedRepository(trx, RemediationRun).update(tenantId, { id: run.id }, { awaiting: null, approvals: approvals as never, status: resumed });
      Object.assign(run, { awaiting: null, approvals, status: resumed });
      await recordAudit(trx, tenantId, actor, { action: 'remediation.run.rejected', targetType: 'remediation_run', targetId: run.id, detail: { clusterId: run.clusterId, scope, reason } });
      await this.stopRun(trx, run, RemediationRunStatus.REJECTED, `rejected: ${reason}`, new Date());
      return (await new TenantScopedRepository(trx, RemediationRun).findById(tenantId, run.id)) ?? run;
    });
  }

  async setPolicy(tenantId: string, clusterId: string, policy: RemediationPolicy, actor: AuditActor): Promise<Cluster> {
    return tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const cluster = await this.requireCluster(trx, tenantId, clusterId);
      const previous = cluster.remediationPolicy;
      await new TenantScopedRepository(trx, Cluster).update(tenantId, { id: clusterId }, { remediationPolicy: policy });
      await recordAudit(trx, tenantId, actor, { action: 'remediation.policy.changed', targetType: 'cluster', targetId: clusterId, detail: { from: previous, to: policy } });
      return Object.assign(cluster, { remediationPolicy: policy });
    });
  }

  async setMaintenance(tenantId: string, clusterId: string, enabled: boolean, reason: string | null | undefined, actor: AuditActor): Promise<Cluster> {
    if (enabled) checkReason(reason ?? '');
    else if (reason != null) checkReason(reason);
    return tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const cluster = await this.requireCluster(trx, tenantId, clusterId);
      const patch = enabled
        ? { maintenance: true, maintenanceReason: reason ?? null, maintenanceSetBy: `${actor.type}:${actor.id ?? 'system'}`, maintenanceSince: cluster.maintenance ? cluster.maintenanceSince : new Date() }
        : { maintenance: false, maintenanceReason: null, maintenanceSetBy: null, maintenanceSince: null };
      await new TenantScopedRepository(trx, Cluster).update(tenantId, { id: clusterId }, patch);
      await recordAudit(trx, tenantId, actor, { action: enabled ? 'remediation.maintenance.on' : 'remediation.maintenance.off', targetType: 'cluster', targetId: clusterId, detail: { reason: reason ?? null } });
      return Object.assign(cluster, patch);
    });
  }

  async findRun(tenantId: string, runId: string): Promise<RemediationRun | null> {
    return new TenantScopedRepository(this.dataSource.manager, RemediationRun).findById(tenantId, runId);
  }

  async listRuns(tenantId: string, clusterId: string, page: PageRequest): Promise<Page<RemediationRun>> {
    return new TenantScopedRepository(this.dataSource.manager, RemediationRun).paginate(tenantId, page, { where: { clusterId }, sortBy: 'createdAt', direction: 'DESC' });
  }

  async steps(tenantId: string, runId: string): Promise<RemediationStep[]> {
    return new TenantScopedRepository(this.dataSource.manager, RemediationStep).find(tenantId, { runId }, { seq: 'ASC' });
  }

  /** Freeze and thaw events of the tenant, newest first. */
  async freezes(tenantId: string, limit: number): Promise<AuditEvent[]> {
    return new TenantScopedRepository(this.dataSource.manager, AuditEvent).find(tenantId, { action: In([FREEZE_ACTIONS.frozen, FREEZE_ACTIONS.thawed]) }, { createdAt: 'DESC' }, limit);
  }

  private async requireLocked(trx: EntityManager, tenantId: string, runId: string): Promise<RemediationRun> {
    const found = await new TenantScopedRepository(trx, RemediationRun).findById(tenantId, runId);
    if (!found) throw new RemediationException(`remediation run ${runId} not found`, RemediationExceptionCode.RUN_NOT_FOUND, { field: 'runId' });
    await lockCluster(trx, tenantId, found.clusterId);
    // Re-read under the lock: the driver may have moved it meanwhile.
    return (await new TenantScopedRepository(trx, RemediationRun).findById(tenantId, runId)) ?? found;
  }

  private async requireCluster(trx: EntityManager, tenantId: string, clusterId: string): Promise<Cluster> {
    // findById first: an id that is not a uuid must not reach Postgres as a cast error.
    const cluster = (await new TenantScopedRepository(trx, Cluster).findById(tenantId, clusterId)) ? await lockCluster(trx, tenantId, clusterId) : null;
    if (!cluster) throw new RemediationException(`cluster ${clusterId} not found`, RemediationExceptionCode.CLUSTER_NOT_FOUND, { field: 'clusterId' });
    return cluster;
  }
}

function cancelReason(cluster: Cluster, freeze: string | null): string | null {
  if (cluster.maintenance) return `maintenance mode turned on${cluster.maintenanceReason ? `: ${cluster.maintenanceReason}` : ''}`;
  if (cluster.remediationPolicy === RemediationPolicy.OFF) return 'remediation policy set to OFF';
  if (freeze) return `frozen: ${freeze}`;
  return null;
}

function checkReason(reason: string): void {
  if (reason.trim() === '' || reason.length > 500) {
    throw new RemediationException('reason must be 1 to 500 characters and not blank', RemediationExceptionCode.INVALID_ARGUMENT, { field: 'reason' });
  }
}

function approval(scope: 'RUN' | 'BOOTSTRAP_PARTIAL', decision: 'APPROVED' | 'REJECTED', actor: AuditActor, reason: string | null): RemediationApproval {
  return { scope, decision, actorType: actor.type, actorId: actor.id, at: new Date().toISOString(), reason };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type { FindingView };
