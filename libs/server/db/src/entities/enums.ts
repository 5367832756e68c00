/** Roles of an API token, strongest first: owner > admin > operator > viewer. */
export enum ApiTokenRole {
  OWNER = 'owner',
  ADMIN = 'admin',
  OPERATOR = 'operator',
  VIEWER = 'viewer',
}

export enum ClusterHealth {
  UNKNOWN = 'UNKNOWN',
  HEALTHY = 'HEALTHY',
  DEGRADED = 'DEGRADED',
  CRITICAL = 'CRITICAL',
}

export enum NodeStatus {
  PENDING = 'PENDING',
  ONLINE = 'ONLINE',
  SUSPECT = 'SUSPECT',
  UNREACHABLE = 'UNREACHABLE',
  DECOMMISSIONED = 'DECOMMISSIONED',
}

export enum CommandStatus {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  REFUSED = 'REFUSED',
  EXPIRED = 'EXPIRED',
}


export enum AuditActorType {
  API_TOKEN = 'api_token',
  AGENT = 'agent',
  SYSTEM = 'system',
  /** An enrollment token that grew a cluster (scale-out): actor id is the token's id. */
  ENROLLMENT_TOKEN = 'enrollment_token',
}

export enum RolloutStatus {
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  ROLLED_BACK = 'ROLLED_BACK',
  SUPERSEDED = 'SUPERSEDED',
}

export enum RolloutStepStatus {
  PENDING = 'PENDING',
  APPLYING = 'APPLYING',
  VERIFYING = 'VERIFYING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  ROLLING_BACK = 'ROLLING_BACK',
  ROLLED_BACK = 'ROLLED_BACK',
  SKIPPED = 'SKIPPED',
}

/** What Triad may do about a cluster's findings on its own (see docs/remediation.md). */
export enum RemediationPolicy {
  AUTOMATIC = 'AUTOMATIC',
  APPROVAL = 'APPROVAL',
  OFF = 'OFF',
}

export enum RemediationRunStatus {
  AWAITING_APPROVAL = 'AWAITING_APPROVAL',
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  ESCALATED = 'ESCALATED',
  REJECTED = 'REJECTED',
  CANCELLED = 'CANCELLED',
}

export enum RemediationStepStatus {
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  SKIPPED = 'SKIPPED',
}
