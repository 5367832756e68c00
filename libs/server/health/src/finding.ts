/** Every finding code (contract A, docs/health.md); a new code is added here and documented there. */
export const FINDING_CODES = [
  'NODE_SUSPECT',
  'NODE_UNREACHABLE',
  'CLUSTER_STACK_DOWN',
  'QUORUM_LOST',
  'PACEMAKER_NODE_OFFLINE',
  'RESOURCE_FAILED',
  'RESOURCE_BLOCKED',
  'RESOURCE_STOPPED',
  'MAINTENANCE_LEFT_ON',
  'GALERA_DOWN',
  'GALERA_NOT_SYNCED',
  'GALERA_CLUSTER_SIZE',
  'GALERA_NO_PRIMARY',
  'RABBITMQ_DOWN',
  'RABBITMQ_PARTITION',
  'RABBITMQ_NODES_MISSING',
  'HAPROXY_BACKEND_DOWN',
  'VIP_NOT_HELD',
  'VIP_HELD_TWICE',
  'CONFIG_DRIFT',
  'COMPONENT_DOWN',
  'COMPONENT_DEGRADED',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export const FINDING_SEVERITIES = ['WARNING', 'CRITICAL'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

export const FINDING_COMPONENTS = ['node', 'corosync', 'pacemaker', 'galera', 'rabbitmq', 'haproxy', 'vip', 'config'] as const;
export type FindingComponent = (typeof FINDING_COMPONENTS)[number];

/** Who is expected to repair it: Pacemaker (for a while), Triad's remediation, a person, or nobody (we cannot see the node). */
export const FINDING_OWNERS = ['PACEMAKER', 'TRIAD', 'OPERATOR', 'NONE'] as const;
export type FindingOwner = (typeof FINDING_OWNERS)[number];

export const CLUSTER_HEALTHS = ['UNKNOWN', 'HEALTHY', 'DEGRADED', 'CRITICAL'] as const;
export type ClusterHealthState = (typeof CLUSTER_HEALTHS)[number];

/** A finding as one evaluation produces it; persistence adds ids and first/last seen. */
export interface FindingDraft {
  /** Stable identity within a cluster: `${code}:${nodeName ?? '*'}:${subject ?? ''}`. */
  key: string;
  code: FindingCode;
  severity: FindingSeverity;
  component: FindingComponent;
  nodeId: string | null;
  nodeName: string | null;
  subject: string | null;
  /** What is wrong and where, one sentence. */
  message: string;
  owner: FindingOwner;
  /** What Triad will do about it, one sentence. */
  action: string;
  detail: Record<string, unknown>;
}

export function findingKey(code: FindingCode, nodeName: string | null, subject: string | null): string {
  return `${code}:${nodeName ?? '*'}:${subject ?? ''}`;
}

/** The rollup: CRITICAL if any finding is, DEGRADED if any finding at all, else HEALTHY. */
export function rollUp(findings: readonly Pick<FindingDraft, 'severity'>[]): Exclude<ClusterHealthState, 'UNKNOWN'> {
  if (findings.some((f) => f.severity === 'CRITICAL')) return 'CRITICAL';
  return findings.length > 0 ? 'DEGRADED' : 'HEALTHY';
}
