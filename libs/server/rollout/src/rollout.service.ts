import { APPLY_REVISION, Reconciler, lockCluster, type SelectNodesToUpdate } from '@triad/commands';
import {
  ClusterRevision,
  Command,
  CommandStatus,
  Node,
  NodeStatus,
  Rollout,
  RolloutStatus,
  RolloutStep,
  RolloutStepStatus,
  SYSTEM_ACTOR,
  TenantScopedRepository,
  recordAudit,
  tenantTransaction,
  type AuditActor,
  type Page,
  type PageRequest,
} from '@triad/db';
import type { Logger } from '@triad/logging';
import { specNodeNames, type ClusterSpec } from '@triad/spec';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { RolloutEventPublisher, RolloutProgressEvent } from './rollout-events';
import {
  ACTIVE_ROLLOUT_STATUSES,
  IN_FLIGHT_STEP_STATUSES,
  healthBaseline,
  isBringUp,
  orderNodes,
  releasePolicy,
  releasedNodes,
  rolloutEnd,
  skipReason,
  stepAction,
  stepsToStart,
  type HeartbeatView,
  type RolloutTimings,
} from './rollout-plan';
import { RolloutException, RolloutExceptionCode } from './rollout.exception';

/** The latest heartbeat of a node (from fleet's presence store in Redis). */
export type HeartbeatSource = (nodeId: string) => Promise<HeartbeatView | undefined>;

export const DEFAULT_MAX_UNAVAILABLE = 1;

/**
 * Rollouts kept in Postgres and advanced one `advance()` at a time: every call reads the rows,
 * decides (rollout-plan.ts) and writes the result in one transaction under the cluster row lock,
 * so any worker can drive any rollout and a crash resumes from the rows.
 */
export class RolloutService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reconciler: Reconciler,
    private readonly heartbeats: HeartbeatSource,
    private readonly events: RolloutEventPublisher,
    private readonly timings: RolloutTimings,
    private readonly logger: Logger,
  ) {}

  /**
   * The rollout of a new revision (from its `cluster.revision.created` outbox row). Idempotent;
   * a revision that is no longer the cluster's current one gets none (its successor has its own).
   */
  async createForRevision(tenantId: string, clusterId: string, revision: number, maxUnavailable = DEFAULT_MAX_UNAVAILABLE): Promise<Rollout | undefined> {
    const events: RolloutProgressEvent[] = [];
    const rollout = await tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const cluster = await lockCluster(trx, tenantId, clusterId);
      if (!cluster || cluster.currentRevision !== revision) return undefined;
      const rollouts = new TenantScopedRepository(trx, Rollout);
      const existing = await rollouts.findOne(tenantId, { clusterId, toRevision: revision });
      if (existing) return existing;
      const created = await rollouts.insert(tenantId, { clusterId, fromRevision: revision - 1, toRevision: revision, maxUnavailable });
      await recordAudit(trx, tenantId, SYSTEM_ACTOR, { action: 'rollout.created', targetType: 'rollout', targetId: created.id, detail: { clusterId, toRevision: revision, maxUnavailable } });
      events.push(rolloutEvent(created));
      return created;
    });
    await this.publish(tenantId, events);
    return rollout;
  }

  /**
   * One pass over the cluster's active rollouts: supersedes, starts, moves steps in flight, starts
   * the next steps, finishes. Returns whether a rollout is still active (the driver calls again).
   */
  async advance(tenantId: string, clusterId: string, now = new Date()): Promise<boolean> {
    const events: RolloutProgressEvent[] = [];
    const active = await tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const cluster = await lockCluster(trx, tenantId, clusterId);
      if (!cluster) return false;
      const rollouts = await new TenantScopedRepository(trx, Rollout).find(tenantId, { clusterId, status: In([...ACTIVE_ROLLOUT_STATUSES]) }, { createdAt: 'ASC' });
      const newest = rollouts.at(-1);
      for (const r of rollouts) {
        const supersededBy = r !== newest && newest ? newest.toRevision : null;
        if (r.status === RolloutStatus.PENDING) {
          if (supersededBy !== null) await this.finish(trx, r, { status: RolloutStatus.SUPERSEDED, reason: `superseded by revision ${supersededBy}` }, [], now, events);
          else if (r.abortRequestedAt) await this.finish(trx, r, { status: RolloutStatus.ROLLED_BACK, reason: 'aborted by an operator before it started' }, [], now, events);
          // The newest starts once no older rollout has a node in flight (the safe point).
          else if (!rollouts.some((o) => o !== r && o.status === RolloutStatus.RUNNING)) await this.start(trx, r, now, events);
        }
        if (r.status === RolloutStatus.RUNNING) await this.step(trx, r, supersededBy, now, events);
      }
      return rollouts.some((r) => ACTIVE_ROLLOUT_STATUSES.includes(r.status));
    });
    await this.publish(tenantId, events);
    return active;
  }

  /** A failed or aborted rollout of the cluster's current revision, again: a new rollout of the nodes not yet on it. */
  async retry(tenantId: string, rolloutId: string, actor: AuditActor): Promise<Rollout> {
    const events: RolloutProgressEvent[] = [];
    const created = await tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const old = await this.require(trx, tenantId, rolloutId);
      const cluster = await lockCluster(trx, tenantId, old.clusterId);
      if (old.status !== RolloutStatus.FAILED && old.status !== RolloutStatus.ROLLED_BACK) {
        throw new RolloutException(`rollout ${rolloutId} is ${old.status}; only a FAILED or ROLLED_BACK rollout can be retried`, RolloutExceptionCode.NOT_RETRYABLE, { field: 'id' });
      }
      if (cluster?.currentRevision !== old.toRevision) {
        throw new RolloutException(`revision ${old.toRevision} is no longer the cluster's current revision (${cluster?.currentRevision})`, RolloutExceptionCode.NOT_RETRYABLE, { field: 'id' });
      }
      const rollouts = new TenantScopedRepository(trx, Rollout);
      const [latest] = await rollouts.find(tenantId, { clusterId: old.clusterId }, { createdAt: 'DESC' }, 1);
      if (latest?.id !== old.id) {
        throw new RolloutException(`rollout ${latest?.id} came after this one; retry the cluster's latest rollout`, RolloutExceptionCode.NOT_RETRYABLE, { field: 'id' });
      }
      const r = await rollouts.insert(tenantId, { clusterId: old.clusterId, fromRevision: old.fromRevision, toRevision: old.toRevision, maxUnavailable: old.maxUnavailable });
      await recordAudit(trx, tenantId, actor, { action: 'rollout.retried', targetType: 'rollout', targetId: r.id, detail: { retryOf: old.id, toRevision: r.toRevision } });
      events.push(rolloutEvent(r));
      return r;
    });
    await this.publish(tenantId, events);
    return created;
  }

  /** Asks the driver to stop: no further node starts, nodes in flight are rolled back, the rollout ends ROLLED_BACK. */
  async abort(tenantId: string, rolloutId: string, actor: AuditActor): Promise<Rollout> {
    return tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const r = await this.require(trx, tenantId, rolloutId);
      if (!ACTIVE_ROLLOUT_STATUSES.includes(r.status)) {
        throw new RolloutException(`rollout ${rolloutId} is already ${r.status}`, RolloutExceptionCode.NOT_ACTIVE, { field: 'id' });
      }
      if (!r.abortRequestedAt) {
        r.abortRequestedAt = new Date();
        await new TenantScopedRepository(trx, Rollout).update(tenantId, { id: r.id }, { abortRequestedAt: r.abortRequestedAt });
        await recordAudit(trx, tenantId, actor, { action: 'rollout.abort_requested', targetType: 'rollout', targetId: r.id, detail: { toRevision: r.toRevision } });
      }
      return r;
    });
  }

  async findById(tenantId: string, rolloutId: string): Promise<Rollout | null> {
    return new TenantScopedRepository(this.dataSource.manager, Rollout).findById(tenantId, rolloutId);
  }

  async list(tenantId: string, clusterId: string, page: PageRequest): Promise<Page<Rollout>> {
    return new TenantScopedRepository(this.dataSource.manager, Rollout).paginate(tenantId, page, { where: { clusterId }, sortBy: 'createdAt', direction: 'DESC' });
  }

  async active(tenantId: string, clusterId: string): Promise<Rollout | null> {
    const [r] = await new TenantScopedRepository(this.dataSource.manager, Rollout).find(tenantId, { clusterId, status: In([...ACTIVE_ROLLOUT_STATUSES]) }, { createdAt: 'DESC' }, 1);
    return r ?? null;
  }

  async steps(tenantId: string, rolloutId: string): Promise<RolloutStep[]> {
    return new TenantScopedRepository(this.dataSource.manager, RolloutStep).find(tenantId, { rolloutId }, { order: 'ASC' });
  }

  /** Clusters the driver should work on: an active rollout, or a current revision without one. Cross-tenant (the sweep). */
  async clustersToDrive(limit = 1_000): Promise<Array<{ tenantId: string; clusterId: string; revision: number; needsRollout: boolean }>> {
    const rows: Array<{ tenant_id: string; cluster_id: string; current_revision: number; needs_rollout: boolean }> = await this.dataSource.query(
      `SELECT c.tenant_id, c.id AS cluster_id, c.current_revision,
              NOT EXISTS (SELECT 1 FROM rollouts r WHERE r.cluster_id = c.id AND r.to_revision = c.current_revision) AS needs_rollout
         FROM clusters c
        WHERE c.current_revision > 0
          AND (EXISTS (SELECT 1 FROM rollouts r WHERE r.cluster_id = c.id AND r.status IN ('PENDING', 'RUNNING'))
               OR NOT EXISTS (SELECT 1 FROM rollouts r WHERE r.cluster_id = c.id AND r.to_revision = c.current_revision))
        LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, clusterId: r.cluster_id, revision: r.current_revision, needsRollout: r.needs_rollout }));
  }

  private async require(trx: EntityManager, tenantId: string, rolloutId: string): Promise<Rollout> {
    const r = await new TenantScopedRepository(trx, Rollout).findById(tenantId, rolloutId);
    if (!r) throw new RolloutException(`rollout ${rolloutId} not found`, RolloutExceptionCode.ROLLOUT_NOT_FOUND, { field: 'id' });
    return r;
  }

  /** PENDING → RUNNING: one step per enrolled node named in the revision's spec, by name. */
  private async start(trx: EntityManager, r: Rollout, now: Date, events: RolloutProgressEvent[]): Promise<void> {
    const revision = await new TenantScopedRepository(trx, ClusterRevision).findOne(r.tenantId, { clusterId: r.clusterId, revision: r.toRevision });
    const named = new Set(revision ? specNodeNames(revision.spec as unknown as ClusterSpec) : []);
    const nodes = (await new TenantScopedRepository(trx, Node).find(r.tenantId, { clusterId: r.clusterId })).filter((n) => n.enrolledAt !== null && named.has(n.name));
    const steps = new TenantScopedRepository(trx, RolloutStep);
    let order = 0;
    const ordered = orderNodes(nodes);
    for (const n of ordered) await steps.insert(r.tenantId, { rolloutId: r.id, nodeId: n.id, nodeName: n.name, order: order++ });
    r.status = RolloutStatus.RUNNING;
    r.startedAt = now;
    await new TenantScopedRepository(trx, Rollout).update(r.tenantId, { id: r.id }, { status: r.status, startedAt: now });
    await recordAudit(trx, r.tenantId, SYSTEM_ACTOR, { action: 'rollout.started', targetType: 'rollout', targetId: r.id, detail: { clusterId: r.clusterId, toRevision: r.toRevision, nodes: ordered.map((n) => n.name) } });
    events.push(rolloutEvent(r));
    this.logger.info({ tenantId: r.tenantId, clusterId: r.clusterId, rolloutId: r.id, toRevision: r.toRevision, nodes: nodes.length }, 'rollout started');
  }

  private async step(trx: EntityManager, r: Rollout, supersededBy: number | null, now: Date, events: RolloutProgressEvent[]): Promise<void> {
    const steps = await new TenantScopedRepository(trx, RolloutStep).find(r.tenantId, { rolloutId: r.id }, { order: 'ASC' });
    const set = (s: RolloutStep, status: RolloutStepStatus, patch: Partial<RolloutStep> = {}) => this.setStep(trx, r, s, status, patch, now, events);

    if (r.abortRequestedAt) {
      for (const s of steps.filter((s) => s.status === RolloutStepStatus.APPLYING || s.status === RolloutStepStatus.VERIFYING)) await this.rollBack(trx, r, s, 'aborted by an operator', now, events);
    }

    // Nodes the rollout adds that have not joined yet: the members' gates expect them missing.
    const fresh = new Set((await new TenantScopedRepository(trx, Node).find(r.tenantId, { clusterId: r.clusterId, appliedRevision: 0 })).map((n) => n.id));
    const joining = steps.filter((s) => fresh.has(s.nodeId) && s.status !== RolloutStepStatus.SUCCEEDED && s.status !== RolloutStepStatus.SKIPPED);
    for (const s of steps.filter((s) => IN_FLIGHT_STEP_STATUSES.includes(s.status))) {
      const command = s.commandId ? await new TenantScopedRepository(trx, Command).findById(r.tenantId, s.commandId) : null;
      const rollback = s.rollbackCommandId ? await new TenantScopedRepository(trx, Command).findById(r.tenantId, s.rollbackCommandId) : null;
      const action = stepAction(
        {
          status: s.status,
          startedAt: s.startedAt ?? now,
          command: command ?? undefined,
          rollbackCommand: rollback ?? undefined,
          heartbeat: s.status === RolloutStepStatus.VERIFYING ? await this.heartbeats(s.nodeId) : undefined,
          baseline: s.healthBaseline ?? [],
          joiningNodes: joining.filter((j) => j.nodeId !== s.nodeId).map((j) => j.nodeName),
        },
        r.toRevision,
        now,
        this.timings,
      );
      switch (action.kind) {
        case 'verify':
          await set(s, RolloutStepStatus.VERIFYING);
          break;
        case 'succeed':
          await set(s, RolloutStepStatus.SUCCEEDED, { finishedAt: now, reason: null });
          break;
        case 'roll-back':
          await this.rollBack(trx, r, s, action.reason, now, events);
          break;
        case 'rolled-back':
          await set(s, RolloutStepStatus.ROLLED_BACK, { finishedAt: now });
          break;
        case 'rollback-failed':
          await set(s, RolloutStepStatus.FAILED, { finishedAt: now, reason: `${s.reason}; ${action.reason}` });
          break;
        case 'none':
          break;
      }
    }

    const stopping = r.abortRequestedAt !== null || supersededBy !== null;
    for (let next = stepsToStart(steps, r.maxUnavailable, stopping)[0]; next; next = stepsToStart(steps, r.maxUnavailable, stopping)[0]) {
      if ((await this.startStep(trx, r, next, now, events)) === 'wait') break;
    }

    const end = rolloutEnd(steps, { aborted: r.abortRequestedAt !== null, supersededBy });
    if (end) await this.finish(trx, r, end, steps, now, events);
  }

  /**
   * Sends the revision to the step's node (or skips a node that cannot or need not take it).
   * 'wait': the node is still settling from its previous change; the step starts on a later pass.
   */
  private async startStep(trx: EntityManager, r: Rollout, s: RolloutStep, now: Date, events: RolloutProgressEvent[]): Promise<'started' | 'wait'> {
    const members = await new TenantScopedRepository(trx, Node).find(r.tenantId, { clusterId: r.clusterId });
    const node = members.find((n) => n.id === s.nodeId);
    const bringUp = r.fromRevision === 0 || isBringUp(members.filter((n) => n.status !== NodeStatus.DECOMMISSIONED));
    const skip = node ? skipReason(node, r.toRevision, bringUp) : 'node deleted';
    if (skip || !node) {
      await this.setStep(trx, r, s, RolloutStepStatus.SKIPPED, { reason: skip ?? null, startedAt: now, finishedAt: now }, now, events);
      return 'started';
    }
    const [lastApplied] = await new TenantScopedRepository(trx, Command).find(r.tenantId, { nodeId: node.id, status: CommandStatus.SUCCEEDED, verb: APPLY_REVISION }, { finishedAt: 'DESC' }, 1);
    const baseline = healthBaseline({
      heartbeat: await this.heartbeats(node.id),
      lastAppliedAt: lastApplied?.finishedAt?.getTime() ?? null,
      now: now.getTime(),
      timings: this.timings,
      joining: !bringUp && node.appliedRevision === 0,
    });
    if (baseline === 'wait') return 'wait';
    const revision = await this.revision(trx, r, r.toRevision);
    const issued = await this.reconciler.issueApplyRevision(trx, node, revision, now);
    await this.setStep(
      trx,
      r,
      s,
      RolloutStepStatus.APPLYING,
      { commandId: issued.commandId, previousRevision: node.appliedRevision, healthBaseline: baseline, startedAt: now },
      now,
      events,
    );
    return 'started';
  }

  /** Back to the revision the node had before its step; without one the step just fails. */
  private async rollBack(trx: EntityManager, r: Rollout, s: RolloutStep, reason: string, now: Date, events: RolloutProgressEvent[]): Promise<void> {
    const node = await new TenantScopedRepository(trx, Node).findById(r.tenantId, s.nodeId);
    if (!node || !s.previousRevision) {
      return this.setStep(trx, r, s, RolloutStepStatus.FAILED, { reason: `${reason}; no earlier revision to roll back to`, finishedAt: now }, now, events);
    }
    const previous = await this.revision(trx, r, s.previousRevision);
    const issued = await this.reconciler.issueApplyRevision(trx, node, previous, now);
    this.logger.warn({ tenantId: r.tenantId, rolloutId: r.id, nodeId: s.nodeId, reason, toRevision: s.previousRevision, commandId: issued.commandId }, 'rolling node back');
    await this.setStep(trx, r, s, RolloutStepStatus.ROLLING_BACK, { reason, rollbackCommandId: issued.commandId }, now, events);
  }

  private async finish(trx: EntityManager, r: Rollout, end: { status: RolloutStatus; reason: string | null }, steps: RolloutStep[], now: Date, events: RolloutProgressEvent[]): Promise<void> {
    for (const s of steps.filter((s) => s.status === RolloutStepStatus.PENDING)) {
      await this.setStep(trx, r, s, RolloutStepStatus.SKIPPED, { reason: `rollout ${end.status}`, finishedAt: now }, now, events);
    }
    r.status = end.status;
    r.reason = end.reason;
    r.finishedAt = now;
    await new TenantScopedRepository(trx, Rollout).update(r.tenantId, { id: r.id }, { status: r.status, reason: r.reason, finishedAt: now });
    await recordAudit(trx, r.tenantId, SYSTEM_ACTOR, { action: 'rollout.finished', targetType: 'rollout', targetId: r.id, detail: { status: r.status, reason: r.reason, toRevision: r.toRevision } });
    events.push(rolloutEvent(r));
    this.logger.info({ tenantId: r.tenantId, clusterId: r.clusterId, rolloutId: r.id, status: r.status, reason: r.reason }, 'rollout finished');
  }

  private async setStep(trx: EntityManager, r: Rollout, s: RolloutStep, status: RolloutStepStatus, patch: Partial<RolloutStep>, now: Date, events: RolloutProgressEvent[]): Promise<void> {
    Object.assign(s, patch, { status });
    const { reason, commandId, rollbackCommandId, previousRevision, healthBaseline, startedAt, finishedAt } = s;
    await new TenantScopedRepository(trx, RolloutStep).update(r.tenantId, { id: s.id }, { status, reason, commandId, rollbackCommandId, previousRevision, healthBaseline, startedAt, finishedAt });
    await recordAudit(trx, r.tenantId, SYSTEM_ACTOR, {
      action: 'rollout.step.changed',
      targetType: 'rollout',
      targetId: r.id,
      detail: { nodeId: s.nodeId, nodeName: s.nodeName, order: s.order, status, reason, commandId, rollbackCommandId },
    });
    events.push({ ...rolloutEvent(r), step: { id: s.id, nodeId: s.nodeId, nodeName: s.nodeName, order: s.order, status, reason }, at: now.toISOString() });
  }

  private async revision(trx: EntityManager, r: Rollout, revision: number): Promise<ClusterRevision> {
    const row = await new TenantScopedRepository(trx, ClusterRevision).findOne(r.tenantId, { clusterId: r.clusterId, revision });
    if (!row) throw new Error(`cluster ${r.clusterId} has no revision ${revision}`);
    return row;
  }

  private async publish(tenantId: string, events: RolloutProgressEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Progress events are a live view; the committed rows are the record, so a lost publish is only logged.
    await this.events.publish(tenantId, events).catch((err: unknown) => this.logger.warn({ err, tenantId }, 'could not publish rollout progress'));
  }
}

function rolloutEvent(r: Rollout): RolloutProgressEvent {
  return { clusterId: r.clusterId, rolloutId: r.id, toRevision: r.toRevision, rolloutStatus: r.status, reason: r.reason, at: new Date().toISOString() };
}

/**
 * The reconciler's node selection for a cluster and revision (`ReconcilerOptions.selectFor`):
 * only the nodes the revision's latest rollout released (see `releasedNodes`, `releasePolicy`).
 */
export async function rolloutNodeSelection(trx: EntityManager, tenantId: string, clusterId: string, revision: number): Promise<SelectNodesToUpdate> {
  const [rollout] = await new TenantScopedRepository(trx, Rollout).find(tenantId, { clusterId, toRevision: revision }, { createdAt: 'DESC' }, 1);
  const steps = rollout ? await new TenantScopedRepository(trx, RolloutStep).find(tenantId, { rolloutId: rollout.id }) : [];
  return releasePolicy(releasedNodes(rollout, steps), revision === 1);
}

