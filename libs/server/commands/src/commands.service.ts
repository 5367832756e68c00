import type { Logger } from '@triad/logging';
import { AuditActorType, Command, CommandStatus, Node, TenantScopedRepository, assertTenantId, recordAudit, tenantTransaction } from '@triad/db';
import type { CommandUpdate__Output } from '@triad/protocol';
import type { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { canTransition, statusesBefore, statusForAgentState } from './command-status';
import { APPLY_REVISION, RUN_ACTION, type ReconcileOutcome, type Reconciler } from './reconciler';
import { affectedRows, isUuid } from './sql';

export type RecordUpdateOutcome =
  /** The row moved to `status`. */
  | { outcome: 'applied'; status: CommandStatus }
  /** The row is already at or past this state (duplicate or late update); nothing changed. */
  | { outcome: 'stale'; status: CommandStatus }
  /** No such command for this tenant and node: a wrong or forged id; nothing changed. */
  | { outcome: 'unknown-command' }
  | { outcome: 'unknown-state' };

/**
 * What the agent stream (fleet) calls: `recordUpdate` for every `CommandUpdate`, with the tenant
 * and node of the authenticated stream (never taken from the update), and `reconcileNode` on
 * every Hello. Command rows follow what agents report, forward only.
 */
export class CommandsService {
  private readonly commands: TenantScopedRepository<Command>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly reconciler: Reconciler,
    private readonly logger: Logger,
  ) {
    this.commands = new TenantScopedRepository(dataSource.manager, Command);
  }

  async recordUpdate(tenantId: string, nodeId: string, update: CommandUpdate__Output): Promise<RecordUpdateOutcome> {
    assertTenantId(tenantId);
    const log = this.logger.child({ tenantId, nodeId, commandId: update.commandId, state: update.state });
    const to = statusForAgentState(update.state);
    if (!to) {
      log.warn('command update without a state ignored');
      return { outcome: 'unknown-state' };
    }
    if (to === CommandStatus.REFUSED) await this.recordRefusal(tenantId, nodeId, update);
    if (!isUuid(update.commandId)) {
      log.warn('command update with a malformed command id ignored');
      return { outcome: 'unknown-command' };
    }
    return tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const commands = this.commands.withManager(trx);
      // Lock the row so two updates for one command (e.g. from a reconnecting agent) apply in order.
      const cmd = await commands
        .queryBuilder(tenantId, 'c')
        .andWhere('c.id = :id', { id: update.commandId })
        .andWhere('c.nodeId = :nodeId', { nodeId })
        .setLock('pessimistic_write')
        .getOne();
      if (!cmd) {
        // Tenant isolation: an update about a command of another node or tenant changes nothing.
        log.warn('command update for a command this node does not have ignored');
        return { outcome: 'unknown-command' };
      }
      if (!canTransition(cmd.status, to)) {
        log.debug({ current: cmd.status }, 'command update does not move the command forward; ignored');
        return { outcome: 'stale', status: cmd.status };
      }
      const now = new Date();
      const patch: Pick<Command, 'status' | 'deliveredAt'> & Partial<Pick<Command, 'startedAt' | 'finishedAt' | 'message' | 'reason' | 'result'>> = { status: to, deliveredAt: cmd.deliveredAt ?? now };
      if (to === CommandStatus.RUNNING) patch.startedAt = now;
      const outcome = to === CommandStatus.SUCCEEDED || to === CommandStatus.FAILED || to === CommandStatus.REFUSED;
      if (outcome) {
        patch.finishedAt = now;
        patch.message = update.message || null;
        patch.reason = update.reason || null;
        const result = parseResultJson(update.resultJson);
        if (result) patch.result = result;
        else if (update.resultJson) log.warn('command update with a result that is not a JSON object; result not stored');
      }
      // result is a JSON object; TypeORM's deep-partial type cannot express Record<string, unknown>.
      await commands.update(tenantId, { id: cmd.id }, patch as QueryDeepPartialEntity<Command>);
      if (to === CommandStatus.SUCCEEDED && cmd.verb === APPLY_REVISION) await this.recordApplied(trx, cmd, update);
      if (outcome && cmd.verb === RUN_ACTION) {
        await recordAudit(trx, tenantId, { type: AuditActorType.AGENT, id: nodeId }, {
          action: 'node.action.finished',
          targetType: 'node',
          targetId: nodeId,
          detail: { commandId: cmd.id, clusterId: cmd.clusterId, action: cmd.params.action, status: to, reason: patch.reason, message: patch.message, result: patch.result ?? null },
        });
      }
      log.info({ status: to, from: cmd.status }, 'command status changed');
      return { outcome: 'applied', status: to };
    });
  }

  /** An agent (re)connected: send it the current revision if it is behind and nothing is on its way. */
  reconcileNode(tenantId: string, nodeId: string): Promise<ReconcileOutcome> {
    return this.reconciler.reconcileNode(tenantId, nodeId);
  }

  /**
   * Marks commands whose deadline passed without an outcome as EXPIRED. Returns how many.
   * The agent refuses an expired command anyway; this makes the row say so and frees the
   * reconciler to issue a new one.
   */
  async expireOverdue(limit = 1_000): Promise<number> {
    // A system sweep across tenants. SKIP LOCKED: a row an agent update holds right now is left
    // for the next sweep rather than waited for.
    const n = await affectedRows(
      this.dataSource,
      `UPDATE commands SET status = 'EXPIRED', finished_at = now(), reason = 'EXPIRED',
              message = 'no outcome reported before the command expired'
        WHERE id IN (SELECT id FROM commands
                      WHERE status = ANY($1::command_status[]) AND expires_at <= now()
                      ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [statusesBefore(CommandStatus.EXPIRED), limit],
    );
    if (n > 0) this.logger.info({ expired: n }, 'expired overdue commands');
    return n;
  }

  /**
   * Every refusal is audited, also for ids we never issued: a forged, replayed or stale command
   * reaching an agent is a security signal (only the control plane may publish commands).
   */
  private async recordRefusal(tenantId: string, nodeId: string, update: CommandUpdate__Output): Promise<void> {
    this.logger.warn({ tenantId, nodeId, commandId: update.commandId, reason: update.reason, message: update.message }, 'agent refused a command');
    await tenantTransaction(this.dataSource, tenantId, (trx) =>
      recordAudit(trx, tenantId, { type: AuditActorType.AGENT, id: nodeId }, {
        action: 'command.refused',
        targetType: 'command',
        targetId: isUuid(update.commandId) ? update.commandId : null,
        detail: { reason: update.reason, message: update.message, commandId: update.commandId, generation: update.generation },
      }),
    );
  }

  /** SUCCEEDED: the node now runs the command's revision; record it and who said so. */
  private async recordApplied(trx: EntityManager, cmd: Command, update: CommandUpdate__Output): Promise<void> {
    const revision = cmd.revision ?? update.revision;
    const appliedArtifacts = Object.fromEntries(update.artifacts.map((a) => [a.name, a.sha256]));
    await new TenantScopedRepository(trx, Node).update(cmd.tenantId, { id: cmd.nodeId }, { appliedRevision: revision, appliedArtifacts });
    await recordAudit(trx, cmd.tenantId, { type: AuditActorType.AGENT, id: cmd.nodeId }, {
      action: 'node.revision.applied',
      targetType: 'node',
      targetId: cmd.nodeId,
      detail: { commandId: cmd.id, clusterId: cmd.clusterId, revision, generation: cmd.generation, artifacts: appliedArtifacts },
    });
  }
}

/** `CommandUpdate.result_json`: a JSON object, at most 64 KiB; anything else is not stored. */
export function parseResultJson(text: string | undefined): Record<string, unknown> | undefined {
  if (!text || text.length > 65_536) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
