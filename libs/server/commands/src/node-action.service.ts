import { awaitCommandOutcome } from './command-outcome';
import { Injectable } from '@nestjs/common';
import type { Logger } from '@triad/logging';
import { Command, CommandStatus, Node, NodeStatus, TenantScopedRepository, assertTenantId, recordAudit, SYSTEM_ACTOR, tenantTransaction } from '@triad/db';
import { ErrorKind, defineException } from '@triad/server-core';
import { NODE_ACTION_NAMES, runActionParams, type NodeActionName } from '@triad/protocol';
import type { DataSource } from 'typeorm';
import { lockCluster, RUN_ACTION, type Reconciler } from './reconciler';
import { isUuid } from './sql';

export type { NodeActionName } from '@triad/protocol';

export interface NodeActionResult {
  commandId: string;
  status: 'SUCCEEDED' | 'FAILED' | 'REFUSED' | 'EXPIRED';
  message: string;
  result?: Record<string, unknown>;
  durationMs: number;
}

export interface NodeActionOptions {
  /** How long the command may wait for its agent and run (default per action, DEFAULT_ACTION_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Why it is asked for (a remediation run and step, an operator): stored in the audit events. */
  reason?: string;
}

export enum NodeActionExceptionCode {
  BAD_ACTION = 'BAD_ACTION',
  NODE_NOT_FOUND = 'NODE_NOT_FOUND',
  NODE_NOT_ENROLLED = 'NODE_NOT_ENROLLED',
}

export const NodeActionException = defineException<NodeActionExceptionCode>('NodeActionException', {
  [NodeActionExceptionCode.BAD_ACTION]: ErrorKind.BAD_USER_INPUT,
  [NodeActionExceptionCode.NODE_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [NodeActionExceptionCode.NODE_NOT_ENROLLED]: ErrorKind.CONFLICT,
});
export type NodeActionException = InstanceType<typeof NodeActionException>;

/**
 * How long each action may take by default, from issue to outcome: the command's expiresAt (an
 * agent that receives it later refuses it) and the wait. Starting or joining a database member
 * may include a state transfer.
 */
export const DEFAULT_ACTION_TIMEOUT_MS: Record<NodeActionName, number> = {
  'cluster_stack.start': 180_000,
  'cluster_stack.restart': 180_000,
  'pacemaker.cleanup': 60_000,
  'pacemaker.set_managed': 60_000,
  'pacemaker.set_maintenance': 60_000,
  'galera.report_position': 180_000,
  'galera.bootstrap': 600_000,
  'galera.join': 600_000,
  'rabbitmq.restart': 300_000,
  'rabbitmq.rejoin': 300_000,
};

const POLL_MS = 200;
const OUTCOMES: readonly CommandStatus[] = [CommandStatus.SUCCEEDED, CommandStatus.FAILED, CommandStatus.REFUSED];

/**
 * Asks one node's agent to carry out one repair operation (`run_action`) and waits for the
 * outcome. The command takes the same path as apply_revision (Reconciler.issueCommand: fencing
 * generation, signature, Command + outbox rows in one tenant transaction under the cluster lock);
 * the row is then polled until the agent reports an outcome or the timeout passes (EXPIRED: the
 * agent refuses it once expired; an outcome it reports later still lands on the row).
 */
@Injectable()
export class NodeActionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reconciler: Reconciler,
    private readonly logger: Logger,
  ) {}

  async run(tenantId: string, nodeId: string, action: NodeActionName, args: Record<string, unknown>, opts: NodeActionOptions = {}): Promise<NodeActionResult> {
    assertTenantId(tenantId);
    if (!isUuid(nodeId)) throw new NodeActionException(`node id "${nodeId}" is not a UUID`, NodeActionExceptionCode.NODE_NOT_FOUND, { field: 'nodeId' });
    if (!NODE_ACTION_NAMES.includes(action)) {
      throw new NodeActionException(`unknown action "${String(action)}"; known: ${NODE_ACTION_NAMES.join(', ')}`, NodeActionExceptionCode.BAD_ACTION, { field: 'action' });
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS[action];
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1_000) throw new NodeActionException('timeoutMs must be an integer of at least 1000', NodeActionExceptionCode.BAD_ACTION, { field: 'timeoutMs' });
    const started = Date.now();
    const log = this.logger.child({ tenantId, nodeId, action });

    const issued = await tenantTransaction(this.dataSource, tenantId, async (trx) => {
      const node = await new TenantScopedRepository(trx, Node).findById(tenantId, nodeId);
      if (!node) throw new NodeActionException(`no node ${nodeId}`, NodeActionExceptionCode.NODE_NOT_FOUND, { field: 'nodeId' });
      if (node.enrolledAt === null || node.status === NodeStatus.DECOMMISSIONED) {
        throw new NodeActionException(`node ${node.name} is ${node.enrolledAt === null ? 'not enrolled' : 'decommissioned'}: no agent to run ${action}`, NodeActionExceptionCode.NODE_NOT_ENROLLED, { field: 'nodeId' });
      }
      const parsed = runActionParams.safeParse({ clusterId: node.clusterId, nodeName: node.name, action, args });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = ['args', ...(issue?.path.slice(1) ?? [])].map(String).join('.');
        throw new NodeActionException(`${action}: ${field}: ${issue?.message ?? 'invalid'}`, NodeActionExceptionCode.BAD_ACTION, {
          field,
          problems: parsed.error.issues.map((i) => ({ field: ['args', ...i.path.slice(1)].map(String).join('.'), code: i.code, message: i.message })),
        });
      }
      // Same lock as the reconciler and rollouts: one party issues commands for a cluster at a time.
      await lockCluster(trx, tenantId, node.clusterId);
      const now = new Date();
      const cmd = await this.reconciler.issueCommand(trx, node, { verb: RUN_ACTION, params: parsed.data, revision: null, expiresAt: new Date(now.getTime() + timeoutMs) }, now);
      await recordAudit(trx, tenantId, SYSTEM_ACTOR, {
        action: 'node.action.requested',
        targetType: 'node',
        targetId: nodeId,
        detail: { commandId: cmd.commandId, clusterId: node.clusterId, nodeName: node.name, action, args: parsed.data.args, reason: opts.reason ?? null, generation: cmd.generation, expiresAt: cmd.expiresAt.toISOString() },
      });
      return cmd;
    });
    log.info({ commandId: issued.commandId, generation: issued.generation, reason: opts.reason }, 'node action requested');

    const { row, done } = await awaitCommandOutcome(this.dataSource, tenantId, issued.commandId, { deadline: started + timeoutMs, pollMs: POLL_MS, outcomes: OUTCOMES });
    if (!row || !done) return this.expired(tenantId, nodeId, issued.commandId, action, row, started, timeoutMs, log);
    const status = row.status as NodeActionResult['status'];
    const result: NodeActionResult = {
      commandId: row.id,
      status,
      message: row.message ?? (row.reason ? `${row.reason}` : status.toLowerCase()),
      ...(row.result ? { result: row.result } : {}),
      durationMs: Date.now() - started,
    };
    log.info({ commandId: row.id, status, reason: row.reason, durationMs: result.durationMs }, 'node action finished');
    return result;
  }

  private async expired(tenantId: string, nodeId: string, commandId: string, action: NodeActionName, row: Command | null, started: number, timeoutMs: number, log: Logger): Promise<NodeActionResult> {
    const where = row?.status === CommandStatus.RUNNING ? 'it was still running' : row?.status === CommandStatus.DELIVERED ? 'the agent had received it' : 'the agent never received it';
    const message = `no outcome within ${timeoutMs} ms (${where})`;
    await tenantTransaction(this.dataSource, tenantId, (trx) =>
      recordAudit(trx, tenantId, SYSTEM_ACTOR, {
        action: 'node.action.finished',
        targetType: 'node',
        targetId: nodeId,
        detail: { commandId, clusterId: row?.clusterId ?? null, action, status: 'EXPIRED', message, lastStatus: row?.status ?? null },
      }),
    );
    const durationMs = Date.now() - started;
    log.warn({ commandId, lastStatus: row?.status, durationMs }, 'node action timed out');
    return { commandId, status: 'EXPIRED', message, durationMs };
  }
}
