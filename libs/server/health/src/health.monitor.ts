import { isDeepStrictEqual } from 'node:util';
import { Cluster, ClusterHealth, ClusterRevision, Finding, Node, SYSTEM_ACTOR, TenantScopedRepository, recordAudit, tenantTransaction } from '@triad/db';
import { RedisLeaderLock, RepeatingTask, type NodePresenceStore } from '@triad/fleet';
import type { Logger } from '@triad/logging';
import type { ClusterSpec } from '@triad/spec';
import type { Redis } from 'ioredis';
import type { DataSource, EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { reportsFromHeartbeat, reportsFromSnapshot } from './component-report';
import { MEMBERSHIP_FINDINGS, evaluateCluster, type NodeHealthInput } from './evaluate-cluster';
import type { FindingDraft } from './finding';
import type { ClusterHealthEvent, FindingEventView, HealthEventPublisher } from './health-events';

export interface HealthMonitorOptions {
  redisPrefix: string;
  intervalMs: number;
  pacemakerGraceMs: number;
  refreshMs: number;
}

/** What one cluster's evaluation changed. */
export interface HealthOutcome {
  health: ClusterHealth;
  healthChanged: boolean;
  healthChangedAt: Date | null;
  opened: string[];
  resolved: string[];
  /** Open findings whose owner changed (e.g. Pacemaker's grace ran out): remediation's cue. */
  reassigned: string[];
  open: Finding[];
}

export function findingEventView(f: Finding): FindingEventView {
  return {
    id: f.id,
    key: f.key,
    code: f.code as FindingEventView['code'],
    severity: f.severity as FindingEventView['severity'],
    component: f.component as FindingEventView['component'],
    nodeId: f.nodeId,
    nodeName: f.nodeName,
    subject: f.subject,
    message: f.message,
    owner: f.owner as FindingEventView['owner'],
    action: f.action,
    detail: f.detail,
    firstSeenAt: f.firstSeenAt.toISOString(),
    lastSeenAt: f.lastSeenAt.toISOString(),
    resolvedAt: f.resolvedAt?.toISOString() ?? null,
  };
}

/** The fields a new evaluation may change on an open finding. */
function changed(row: Finding, d: FindingDraft): boolean {
  return (
    row.severity !== d.severity ||
    row.message !== d.message ||
    row.owner !== d.owner ||
    row.action !== d.action ||
    row.nodeId !== d.nodeId ||
    // jsonb keeps keys in its own order, not the draft's: compare values, not serialisations
    // (a string compare rewrote every finding with a multi-key detail on every tick).
    !isDeepStrictEqual(row.detail, JSON.parse(JSON.stringify(d.detail)))
  );
}

/**
 * Turns heartbeats into findings and the cluster health rollup (docs/health.md): every interval,
 * every cluster with a desired revision is evaluated by the pure `evaluateCluster`, and the result
 * is recorded: findings opened, refreshed and resolved, clusters.health written only on a change,
 * each change audited and published to the tenant's `health` channel. Runs in the worker; any
 * number of replicas may start it: a Redis lock lets one evaluate at a time.
 */
export class HealthMonitor {
  private readonly lock: RedisLeaderLock;
  private readonly loop: RepeatingTask;
  /** The desired revision of each cluster, by cluster id: revisions never change once stored. */
  private readonly revisions = new Map<string, ClusterRevision>();

  constructor(
    redis: Redis,
    private readonly dataSource: DataSource,
    private readonly presence: NodePresenceStore,
    private readonly events: HealthEventPublisher,
    private readonly options: HealthMonitorOptions,
    private readonly logger: Logger,
  ) {
    this.lock = new RedisLeaderLock(redis, `${options.redisPrefix}health:monitor-lock`, Math.max(5_000, options.intervalMs * 8));
    this.loop = new RepeatingTask(options.intervalMs, () => this.tick(), (err) => this.logger.error({ err }, 'health evaluation failed'));
  }

  get isLeader(): boolean {
    return this.lock.isHeld;
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.lock.release();
  }

  /** One round: hold the lock, then evaluate every cluster with a desired revision. */
  async tick(now = new Date()): Promise<void> {
    const { held, acquired, lost } = await this.lock.hold();
    if (lost) this.logger.warn('lost the health monitor lock');
    if (acquired) this.logger.info('health monitor is the leader');
    if (!held) return;
    // Deliberately across tenants: the monitor is a system process; each cluster is then handled in its tenant's transaction.
    const clusters = (await this.dataSource.query(`SELECT tenant_id, id FROM clusters WHERE current_revision > 0 ORDER BY id`)) as Array<{ tenant_id: string; id: string }>;
    for (const c of clusters) {
      try {
        await this.evaluate(c.tenant_id, c.id, now);
      } catch (err) {
        this.logger.error({ err, tenantId: c.tenant_id, clusterId: c.id }, 'health evaluation of a cluster failed');
      }
    }
  }

  /** The cluster's current revision, read once per revision rather than on every tick. */
  private async revisionOf(trx: EntityManager, cluster: Cluster): Promise<ClusterRevision | null> {
    if (!cluster.currentRevision) return null;
    const cached = this.revisions.get(cluster.id);
    if (cached?.revision === cluster.currentRevision) return cached;
    const revision = await new TenantScopedRepository(trx, ClusterRevision).findOne(cluster.tenantId, { clusterId: cluster.id, revision: cluster.currentRevision });
    if (revision) this.revisions.set(cluster.id, revision);
    return revision;
  }

  /** Evaluates one cluster now and records what changed. */
  async evaluate(tenantId: string, clusterId: string, now = new Date()): Promise<HealthOutcome | undefined> {
    const nodeRows = await new TenantScopedRepository(this.dataSource.manager, Node).find(tenantId, { clusterId });
    // Redis has the newest heartbeat; nodes.health is written only when a state changes.
    const heartbeats = await this.presence.latestHeartbeats(nodeRows.map((n) => n.id));
    const nodes: NodeHealthInput[] = nodeRows.map((n, i) => {
      const hb = heartbeats[i];
      return {
        id: n.id,
        name: n.name,
        status: n.status,
        statusChangedAt: n.statusChangedAt,
        lastHeartbeatAt: hb ? new Date(hb.at) : n.lastHeartbeatAt,
        appliedRevision: n.appliedRevision,
        appliedArtifacts: n.appliedArtifacts ?? {},
        components: hb && hb.health !== '[]' ? reportsFromHeartbeat(hb.health) : reportsFromSnapshot(n.health),
      };
    });

    const outcome = await tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const cluster = await new TenantScopedRepository(trx, Cluster).findById(tenantId, clusterId);
      if (!cluster) return undefined;
      const revision = await this.revisionOf(trx, cluster);
      const findings = new TenantScopedRepository(trx, Finding);
      const open = await findings.find(tenantId, { clusterId, resolvedAt: IsNull() });
      const [settled] = (await trx.query(
        `SELECT max(resolved_at) AS at FROM findings WHERE tenant_id = $1 AND cluster_id = $2 AND code = ANY($3) AND resolved_at IS NOT NULL`,
        [tenantId, clusterId, [...MEMBERSHIP_FINDINGS]],
      )) as Array<{ at: Date | null }>;
      const evaluation = evaluateCluster(
        {
          spec: revision ? (revision.spec as unknown as ClusterSpec) : undefined,
          revision: revision?.revision ?? 0,
          expectedArtifacts: revision?.artifactDigests,
          nodes,
          openFindings: new Map(open.map((f) => [f.key, { firstSeenAt: f.firstSeenAt, nodeName: f.nodeName, severity: f.severity as FindingDraft['severity'] }])),
          pacemakerGraceMs: this.options.pacemakerGraceMs,
          membershipSettledAt: settled?.at ?? undefined,
        },
        now,
      );
      return this.record(trx, tenantId, cluster, open, evaluation.findings, new Set(evaluation.held), evaluation.health as ClusterHealth, now);
    });
    if (outcome && (outcome.healthChanged || outcome.opened.length || outcome.resolved.length || outcome.reassigned.length)) {
      const event: ClusterHealthEvent = {
        clusterId,
        health: outcome.health,
        healthChangedAt: outcome.healthChangedAt?.toISOString() ?? null,
        findings: outcome.open.map(findingEventView),
        opened: outcome.opened,
        resolved: outcome.resolved,
        at: now.toISOString(),
      };
      await this.events.publish(tenantId, [event]).catch((err: unknown) => this.logger.warn({ err, tenantId, clusterId }, 'could not publish a health change'));
    }
    return outcome;
  }

  private async record(trx: EntityManager, tenantId: string, cluster: Cluster, open: Finding[], drafts: FindingDraft[], held: ReadonlySet<string>, health: ClusterHealth, now: Date): Promise<HealthOutcome> {
    const log = this.logger.child({ tenantId, clusterId: cluster.id });
    const findings = new TenantScopedRepository(trx, Finding);
    const byKey = new Map(open.map((f) => [f.key, f]));
    const opened: string[] = [];
    const resolved: string[] = [];
    const reassigned: string[] = [];
    const stillOpen: Finding[] = [];
    for (const d of drafts) {
      const row = byKey.get(d.key);
      if (row) {
        byKey.delete(d.key);
        if (changed(row, d) || now.getTime() - row.lastSeenAt.getTime() >= this.options.refreshMs) {
          if (row.owner !== d.owner) reassigned.push(d.key);
          const patch = { severity: d.severity, message: d.message, owner: d.owner, action: d.action, nodeId: d.nodeId, detail: d.detail, lastSeenAt: now };
          await findings.update(tenantId, { id: row.id }, patch as QueryDeepPartialEntity<Finding>);
          Object.assign(row, patch);
        }
        stillOpen.push(row);
        continue;
      }
      const { key, code, severity, component, nodeId, nodeName, subject, message, owner, action, detail } = d;
      const inserted = await findings.insert(tenantId, { clusterId: cluster.id, key, code, severity, component, nodeId, nodeName, subject, message, owner, action, detail, firstSeenAt: now, lastSeenAt: now, resolvedAt: null });
      await recordAudit(trx, tenantId, SYSTEM_ACTOR, { action: 'finding.opened', targetType: 'cluster', targetId: cluster.id, detail: { findingId: inserted.id, key, severity, owner, message } });
      log.info({ key, severity, owner }, `finding opened: ${message}`);
      opened.push(key);
      stillOpen.push(inserted);
    }
    for (const row of byKey.values()) {
      if (held.has(row.key)) {
        stillOpen.push(row);
        continue;
      }
      await findings.update(tenantId, { id: row.id }, { resolvedAt: now });
      await recordAudit(trx, tenantId, SYSTEM_ACTOR, {
        action: 'finding.resolved',
        targetType: 'cluster',
        targetId: cluster.id,
        detail: { findingId: row.id, key: row.key, openForMs: now.getTime() - row.firstSeenAt.getTime() },
      });
      log.info({ key: row.key }, 'finding resolved');
      resolved.push(row.key);
    }
    const healthChanged = cluster.health !== health;
    if (healthChanged) {
      await new TenantScopedRepository(trx, Cluster).update(tenantId, { id: cluster.id }, { health, healthChangedAt: now });
      await recordAudit(trx, tenantId, SYSTEM_ACTOR, {
        action: 'cluster.health.changed',
        targetType: 'cluster',
        targetId: cluster.id,
        detail: { from: cluster.health, to: health, openFindings: stillOpen.map((f) => f.key) },
      });
      log.info({ from: cluster.health, to: health }, `cluster health ${cluster.health} → ${health}`);
    }
    stillOpen.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { health, healthChanged, healthChangedAt: healthChanged ? now : cluster.healthChangedAt, opened, resolved, reassigned, open: stillOpen };
  }
}
