import { randomUUID } from 'node:crypto';
import type { Logger } from '@triad/logging';
import { Cluster, ClusterRevision, Command, Node, NodeStatus, OUTBOX_COMMAND_PUBLISH, Outbox, TenantScopedRepository, tenantTransaction } from '@triad/db';
import { applyRevisionParams, commandSubject, type CommandVerb } from '@triad/protocol';
import { specNodeNames, type ClusterSpec } from '@triad/spec';
import type { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { CommandSigner } from './command-signer';
import { LIVE_COMMAND_STATUSES, countsAsFailedAttempt } from './command-status';
import { DEFAULT_RETRY_POLICY, planNodeUpdates, type NodeDecision, type NodeRevisionState, type RetryPolicy, type SelectNodesToUpdate } from './node-selection';
import type { OutboxHandler } from './outbox-relay';

export const APPLY_REVISION = 'apply_revision';
export const RUN_ACTION = 'run_action';

/**
 * The cluster lock: one party issues commands for a cluster at a time (the reconciler, a rollout
 * step). NO KEY UPDATE does not block inserts that reference the cluster.
 */
export function lockCluster(trx: EntityManager, tenantId: string, clusterId: string): Promise<Cluster | null> {
  return new TenantScopedRepository(trx, Cluster).queryBuilder(tenantId, 'c').andWhere('c.id = :clusterId', { clusterId }).setLock('for_no_key_update').getOne();
}

export interface ReconcilerOptions {
  /** COMMAND_TTL_MS: a command not finished by then is EXPIRED and the agent refuses it. */
  commandTtlMs: number;
  retry?: RetryPolicy;
  /**
   * Per cluster and revision, which eligible nodes get the revision now, read inside the reconcile
   * transaction (under the cluster lock); default all at once. @triad/rollout provides one: only
   * nodes its rollout released.
   */
  selectFor?: (trx: EntityManager, tenantId: string, clusterId: string, revision: number) => Promise<SelectNodesToUpdate>;
}

export interface IssuedCommand {
  commandId: string;
  nodeId: string;
  nodeName: string;
  generation: number;
  revision: number;
  subject: string;
  expiresAt: Date;
}

export interface ReconcileOutcome {
  clusterId: string;
  /** The cluster's current revision (0: no spec yet, or the cluster/node does not exist). */
  revision: number;
  decisions: NodeDecision[];
  issued: IssuedCommand[];
}

/**
 * Level-triggered: compares each node's applied revision with the cluster's current revision and
 * issues an `apply_revision` command where one is missing. Safe to call any number of times from
 * any number of processes: a cluster is reconciled under a row lock on the cluster, and a node
 * with a live command for the revision gets no second one.
 */
export class Reconciler {
  private readonly retry: RetryPolicy;

  constructor(
    private readonly dataSource: DataSource,
    private readonly signer: CommandSigner,
    private readonly options: ReconcilerOptions,
    private readonly logger: Logger,
  ) {
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
  }

  reconcileCluster(tenantId: string, clusterId: string): Promise<ReconcileOutcome> {
    return this.reconcile(tenantId, clusterId);
  }

  /**
   * For an agent that just said Hello: issues a command if the node is behind and none is on its
   * way. The node is treated as reachable (it is connected right now).
   */
  async reconcileNode(tenantId: string, nodeId: string): Promise<ReconcileOutcome> {
    const node = await new TenantScopedRepository(this.dataSource.manager, Node).findById(tenantId, nodeId);
    if (!node) {
      this.logger.warn({ tenantId, nodeId }, 'reconcileNode: no such node');
      return { clusterId: '', revision: 0, decisions: [], issued: [] };
    }
    return this.reconcile(tenantId, node.clusterId, nodeId);
  }

  /**
   * The nodes of the cluster the current revision may go to now, by the same policy as the
   * reconciler's own sends (`selectFor`: a rollout that failed pins the nodes it did not reach to
   * their revision). Remediation's re-apply asks this, so it never sends what a rollout stopped.
   */
  async releasedNodeNames(trx: EntityManager, tenantId: string, clusterId: string, revision: number): Promise<Set<string>> {
    const nodes = await new TenantScopedRepository(trx, Node).find(tenantId, { clusterId });
    const now = new Date();
    const states = nodes.map((n) => nodeRevisionState(n, [], now, false));
    const select = this.options.selectFor ? await this.options.selectFor(trx, tenantId, clusterId, revision) : undefined;
    const released = select ? select(states, states) : states;
    return new Set(released.map((s) => s.nodeName));
  }

  /** Clusters where an enrolled node is not at the current revision: the periodic sweep's work list. */
  async clustersBehind(limit = 1_000): Promise<Array<{ tenantId: string; clusterId: string }>> {
    // A system query across tenants (the sweep); each cluster is then reconciled tenant-scoped.
    const rows: Array<{ tenant_id: string; cluster_id: string }> = await this.dataSource.query(
      `SELECT DISTINCT n.tenant_id, n.cluster_id
         FROM nodes n JOIN clusters c ON c.id = n.cluster_id AND c.tenant_id = n.tenant_id
        WHERE c.current_revision > 0 AND n.applied_revision <> c.current_revision
          AND n.enrolled_at IS NOT NULL AND n.status <> $1
        LIMIT $2`,
      [NodeStatus.DECOMMISSIONED, limit],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, clusterId: r.cluster_id }));
  }

  private async reconcile(tenantId: string, clusterId: string, onlyNodeId?: string): Promise<ReconcileOutcome> {
    const log = this.logger.child({ tenantId, clusterId });
    // RLS confines the transaction to the tenant as a backstop to the scoped queries.
    const outcome = await tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const cluster = await lockCluster(trx, tenantId, clusterId);
      if (!cluster || cluster.currentRevision === 0) return { clusterId, revision: cluster?.currentRevision ?? 0, decisions: [], issued: [] };
      const revision = await new TenantScopedRepository(trx, ClusterRevision).findOne(tenantId, { clusterId, revision: cluster.currentRevision });
      if (!revision) throw new Error(`cluster ${clusterId} has no row for its current revision ${cluster.currentRevision}`);

      const nodes = await new TenantScopedRepository(trx, Node).find(tenantId, { clusterId });
      const commands = await new TenantScopedRepository(trx, Command).find(tenantId, { clusterId, revision: revision.revision, verb: APPLY_REVISION });
      const now = new Date();
      const states = nodes.map((n) => nodeRevisionState(n, commands, now, n.id === onlyNodeId));
      // The spec was validated (defaults filled in) before it was stored as a revision.
      const specNames = specNodeNames(revision.spec as unknown as ClusterSpec);
      const select = this.options.selectFor ? await this.options.selectFor(trx, tenantId, clusterId, revision.revision) : undefined;
      let decisions = planNodeUpdates({ targetRevision: revision.revision, specNodeNames: specNames, nodes: states, now, retry: this.retry, select });
      if (onlyNodeId) decisions = decisions.filter((d) => d.nodeId === onlyNodeId);

      const issued: IssuedCommand[] = [];
      for (const d of decisions) {
        if (d.action !== 'issue') continue;
        const node = nodes.find((n) => n.id === d.nodeId) as Node;
        issued.push(await this.issueApplyRevision(trx, node, revision, now));
      }
      return { clusterId, revision: revision.revision, decisions, issued };
    });
    for (const c of outcome.issued) {
      log.info({ nodeId: c.nodeId, commandId: c.commandId, generation: c.generation, revision: c.revision }, 'issued apply_revision command');
    }
    for (const d of outcome.decisions) {
      if (d.action === 'skip' && d.reason === 'GAVE_UP') {
        log.warn({ nodeId: d.nodeId, revision: outcome.revision, attempts: this.retry.maxAttempts }, 'node failed this revision too often; not retrying until a new revision');
      }
    }
    return outcome;
  }

  /**
   * Fencing generation, Command row and its outbox row: one transaction (the caller's). Public for
   * rollouts (a step's command and a rollback to an earlier revision); the caller holds the
   * cluster row lock (FOR NO KEY UPDATE) like reconcile does, so the two never race for a node.
   */
  async issueApplyRevision(trx: EntityManager, node: Node, revision: ClusterRevision, now: Date): Promise<IssuedCommand> {
    const digests = revision.artifactDigests[node.name] ?? {};
    const params = applyRevisionParams.parse({
      clusterId: revision.clusterId,
      revision: revision.revision,
      nodeName: node.name,
      spec: revision.spec,
      artifacts: Object.entries(digests)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, sha256]) => ({ name, sha256 })),
    });
    return this.issueCommand(trx, node, { verb: APPLY_REVISION, params, revision: revision.revision, expiresAt: new Date(now.getTime() + this.options.commandTtlMs) }, now);
  }

  /**
   * The one path every command takes: bump the node's fencing generation, sign the envelope, and
   * insert the Command row and its `command.publish` outbox row, all in the caller's transaction
   * (tenant-scoped). `params` must already be validated against the verb's schema.
   */
  async issueCommand(
    trx: EntityManager,
    node: Node,
    command: { verb: CommandVerb; params: Record<string, unknown>; revision: number | null; expiresAt: Date },
    now: Date,
  ): Promise<IssuedCommand> {
    const tenantId = node.tenantId;
    const bumped = await trx
      .createQueryBuilder()
      .update(Node)
      .set({ commandGeneration: () => 'command_generation + 1' })
      .where('id = :id AND tenant_id = :tenantId', { id: node.id, tenantId })
      .returning(['commandGeneration'])
      .execute();
    const generation = Number((bumped.raw as Array<{ command_generation: string }>)[0]?.command_generation);
    if (!Number.isSafeInteger(generation)) throw new Error(`node ${node.id} vanished while issuing a command`);

    const id = randomUUID();
    const { verb, params, revision, expiresAt } = command;
    const signed = this.signer.sign({ v: 1, id, tenantId, nodeId: node.id, generation, issuedAt: now.toISOString(), expiresAt: expiresAt.toISOString(), verb, params });

    await new TenantScopedRepository(trx, Command).insert(tenantId, {
      id,
      clusterId: node.clusterId,
      nodeId: node.id,
      verb,
      // A JSON object; TypeORM's deep-partial type cannot express `spec: unknown`.
      params: params as QueryDeepPartialEntity<Record<string, unknown>>,
      revision,
      generation,
      issuedAt: now,
      expiresAt,
    });
    await new TenantScopedRepository(trx, Outbox).insert(tenantId, { kind: OUTBOX_COMMAND_PUBLISH, aggregateId: id, payload: signed });
    return { commandId: id, nodeId: node.id, nodeName: node.name, generation, revision: revision ?? 0, subject: commandSubject(tenantId, node.id), expiresAt };
  }
}

function nodeRevisionState(node: Node, commands: readonly Command[], now: Date, connectedNow: boolean): NodeRevisionState {
  const mine = commands.filter((c) => c.nodeId === node.id);
  const failed = mine.filter(countsAsFailedAttempt);
  const lastFailure = failed.reduce<number | null>((t, c) => Math.max(t ?? 0, (c.finishedAt ?? c.issuedAt).getTime()), null);
  return {
    nodeId: node.id,
    nodeName: node.name,
    availability:
      node.status === NodeStatus.DECOMMISSIONED
        ? 'decommissioned'
        : node.enrolledAt === null
          ? 'not-enrolled'
          : node.status === NodeStatus.UNREACHABLE && !connectedNow
            ? 'unreachable'
            : 'ready',
    appliedRevision: node.appliedRevision,
    hasLiveCommand: mine.some((c) => LIVE_COMMAND_STATUSES.includes(c.status) && c.expiresAt > now),
    failedAttempts: failed.length,
    lastFailureAt: lastFailure === null ? null : new Date(lastFailure),
  };
}

/** `cluster.revision.created` rows (written by updateClusterSpec) → reconcile that cluster. */
export function revisionCreatedHandler(reconciler: Reconciler): OutboxHandler {
  return {
    needsNats: false,
    async handle(row) {
      const { clusterId } = row.payload as { clusterId?: unknown };
      if (typeof clusterId !== 'string') return { note: 'payload has no clusterId' };
      await reconciler.reconcileCluster(row.tenantId, clusterId);
    },
  };
}
