/**
 * The parts of contracts A (findings, HEALTH) and B (node actions, ACTIONS) remediation reads,
 * declared here until those workstreams land on main; then these declarations become re-exports of
 * `@triad/health` / `@triad/commands` and nothing else in this library changes.
 */

/** Contract A's FindingCode (the codes remediation acts on are listed in remediation-plan.ts). */
export type FindingCode =
  | 'NODE_SUSPECT'
  | 'NODE_UNREACHABLE'
  | 'CLUSTER_STACK_DOWN'
  | 'QUORUM_LOST'
  | 'PACEMAKER_NODE_OFFLINE'
  | 'RESOURCE_FAILED'
  | 'RESOURCE_BLOCKED'
  | 'RESOURCE_STOPPED'
  | 'MAINTENANCE_LEFT_ON'
  | 'GALERA_DOWN'
  | 'GALERA_NOT_SYNCED'
  | 'GALERA_CLUSTER_SIZE'
  | 'GALERA_NO_PRIMARY'
  | 'RABBITMQ_DOWN'
  | 'RABBITMQ_PARTITION'
  | 'RABBITMQ_NODES_MISSING'
  | 'HAPROXY_BACKEND_DOWN'
  | 'VIP_NOT_HELD'
  | 'VIP_HELD_TWICE'
  | 'CONFIG_DRIFT'
  | 'COMPONENT_DOWN'
  | 'COMPONENT_DEGRADED';

export type FindingOwner = 'PACEMAKER' | 'TRIAD' | 'OPERATOR' | 'NONE';

/** An open finding as remediation sees it (a row of contract A's `findings` table). */
export interface FindingView {
  key: string;
  code: FindingCode;
  severity: 'WARNING' | 'CRITICAL';
  nodeName: string | null;
  subject: string | null;
  owner: FindingOwner;
  detail: Record<string, unknown>;
  firstSeenAt: Date;
}

/** Contract B. */
export type NodeActionName =
  | 'cluster_stack.start'
  | 'cluster_stack.restart'
  | 'pacemaker.cleanup'
  | 'pacemaker.set_managed'
  | 'pacemaker.set_maintenance'
  | 'galera.report_position'
  | 'galera.bootstrap'
  | 'galera.join'
  | 'rabbitmq.restart'
  | 'rabbitmq.rejoin';

export interface NodeActionResult {
  commandId: string;
  status: 'SUCCEEDED' | 'FAILED' | 'REFUSED' | 'EXPIRED';
  message: string;
  result?: Record<string, unknown>;
  durationMs: number;
}

/** The one method of contract B's NodeActionService that remediation calls. */
export interface NodeActions {
  run(tenantId: string, nodeId: string, action: NodeActionName, args: Record<string, unknown>, opts?: { timeoutMs?: number; reason?: string }): Promise<NodeActionResult>;
}
