import { assertTenantId, Node, NodeStatus, recordAudit, SYSTEM_ACTOR, TenantScopedRepository, tenantTransaction } from '@triad/db';
import type { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { NodeRef } from './node-presence.store';

/** What a heartbeat or Hello says about the node, in the shape stored on `nodes`. */
export interface ReportedNodeState {
  appliedRevision?: number;
  agentVersion?: string;
  appliedArtifacts?: Record<string, string>;
  health?: Record<string, unknown>;
  facts?: Record<string, unknown>;
}

/**
 * The only code that writes heartbeat-derived data to Postgres, and only on a change: a status
 * transition, a changed reported state, or the periodic lastHeartbeatAt batch.
 */
export class NodeStateWriter {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Moves a node to `to` if it is not already there and is not decommissioned. `at` is when the
   * transition was claimed: a transition claimed earlier than the row's statusChangedAt lost a
   * race with a newer one and is dropped. Writes an audit event. Returns the previous status,
   * or undefined when nothing changed.
   */
  async transition(ref: NodeRef, to: NodeStatus, at: Date, detail: Record<string, unknown> = {}): Promise<NodeStatus | undefined> {
    return tenantTransaction(this.dataSource, ref.tenantId, async (trx) => {
      const [rows] = (await trx.query(
        `UPDATE nodes n SET status = $3, status_changed_at = $4
           FROM (SELECT id, status AS old FROM nodes WHERE tenant_id = $1 AND id = $2 FOR UPDATE) o
          WHERE n.id = o.id AND n.status <> $3 AND n.status <> 'DECOMMISSIONED' AND n.status_changed_at <= $4
          RETURNING o.old`,
        [ref.tenantId, ref.nodeId, to, at],
      )) as [Array<{ old: NodeStatus }>, number];
      const from = rows[0]?.old;
      if (!from) return undefined;
      await recordAudit(trx, ref.tenantId, SYSTEM_ACTOR, {
        action: 'node.status.changed',
        targetType: 'node',
        targetId: ref.nodeId,
        detail: { from, to, ...detail },
      });
      return from;
    });
  }

  /** Stores the reported state that changed, and the heartbeat time with it. */
  async recordReportedState(ref: NodeRef, state: ReportedNodeState, heartbeatAt: Date): Promise<void> {
    const patch: Partial<Node> = { lastHeartbeatAt: heartbeatAt };
    if (state.appliedRevision !== undefined) patch.appliedRevision = state.appliedRevision;
    if (state.agentVersion !== undefined) patch.agentVersion = state.agentVersion;
    if (state.appliedArtifacts !== undefined) patch.appliedArtifacts = state.appliedArtifacts;
    if (state.health !== undefined) patch.health = state.health;
    if (state.facts !== undefined) patch.facts = state.facts;
    // jsonb columns typed Record<string, unknown> do not fit TypeORM's deep-partial type; the values are plain JSON.
    await tenantTransaction(this.dataSource, ref.tenantId, (trx) => new TenantScopedRepository<Node>(trx, Node).update(ref.tenantId, { id: ref.nodeId }, patch as QueryDeepPartialEntity<Node>));
  }

  /**
   * One statement for every live node: lastHeartbeatAt moves forward, never back. Returns the
   * number of rows written. A system path across tenants (the sweeper), so not under RLS.
   */
  async flushLastHeartbeats(beats: Array<NodeRef & { lastSeenMs: number }>): Promise<number> {
    if (beats.length === 0) return 0;
    const params: unknown[] = [];
    const tuples = beats.map((b, i) => {
      assertTenantId(b.tenantId);
      params.push(b.tenantId, b.nodeId, new Date(b.lastSeenMs));
      return `($${i * 3 + 1}::uuid, $${i * 3 + 2}::uuid, $${i * 3 + 3}::timestamptz)`;
    });
    const [, count] = (await this.dataSource.query(
      `UPDATE nodes n SET last_heartbeat_at = v.at
         FROM (VALUES ${tuples.join(', ')}) AS v(tenant_id, id, at)
        WHERE n.tenant_id = v.tenant_id AND n.id = v.id
          AND (n.last_heartbeat_at IS NULL OR n.last_heartbeat_at < v.at)`,
      params,
    )) as [unknown, number];
    return count;
  }
}
