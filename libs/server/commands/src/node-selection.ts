/**
 * Which nodes of a cluster get a command for the cluster's current revision: pure functions over
 * what the reconciler read from Postgres. Eligibility (enrolled, named in the spec, behind, nothing
 * in flight, retry budget) is fixed; which eligible nodes go now is a `SelectNodesToUpdate` policy,
 * so a rollout can send one node at a time without touching the reconciler.
 */

export interface NodeRevisionState {
  nodeId: string;
  nodeName: string;
  /** Enrolled and not decommissioned, and not known to be unreachable (a Hello proves it is back). */
  availability: 'ready' | 'not-enrolled' | 'decommissioned' | 'unreachable';
  appliedRevision: number | null;
  /** A PENDING/DELIVERED/RUNNING command for the target revision that has not expired. */
  hasLiveCommand: boolean;
  /** Commands for the target revision that reached the agent and did not succeed (FAILED, REFUSED, or EXPIRED after delivery). */
  failedAttempts: number;
  /** When the last of those ended. */
  lastFailureAt: Date | null;
}

export interface RetryPolicy {
  /** At most this many failed commands per node and revision; then the reconciler stops and says so. */
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, backoffBaseMs: 30_000, backoffMaxMs: 10 * 60_000 };

export type SkipReason =
  | 'UP_TO_DATE'
  | 'NOT_IN_SPEC'
  | 'NOT_ENROLLED'
  | 'DECOMMISSIONED'
  | 'UNREACHABLE'
  | 'COMMAND_IN_FLIGHT' | 'BACKING_OFF' | 'GAVE_UP' | 'HELD_BY_POLICY';

export type NodeDecision =
  | { nodeId: string; nodeName: string; action: 'issue' }
  | { nodeId: string; nodeName: string; action: 'skip'; reason: SkipReason; retryAt?: Date };

/**
 * Picks which eligible nodes receive the revision now. `all` is every node of the cluster (a
 * rollout counts nodes already updating through `hasLiveCommand`). Returns a subset of `eligible`.
 */
export type SelectNodesToUpdate = (eligible: readonly NodeRevisionState[], all: readonly NodeRevisionState[]) => readonly NodeRevisionState[];

/** Today's policy: every eligible node at once. */
export const selectAllNodes: SelectNodesToUpdate = (eligible) => eligible;

/** Delay before the next attempt after `failedAttempts` failures: base·2^(n-1), capped. */
export function retryDelayMs(failedAttempts: number, policy: RetryPolicy): number {
  if (failedAttempts <= 0) return 0;
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (failedAttempts - 1));
}

export function planNodeUpdates(input: {
  targetRevision: number;
  specNodeNames: readonly string[];
  nodes: readonly NodeRevisionState[];
  now: Date;
  retry: RetryPolicy;
  select?: SelectNodesToUpdate;
}): NodeDecision[] {
  const { targetRevision, nodes, now, retry } = input;
  const named = new Set(input.specNodeNames);
  const decisions = new Map<string, NodeDecision>();
  const eligible: NodeRevisionState[] = [];
  const skip = (n: NodeRevisionState, reason: SkipReason, retryAt?: Date) =>
    decisions.set(n.nodeId, { nodeId: n.nodeId, nodeName: n.nodeName, action: 'skip', reason, ...(retryAt ? { retryAt } : {}) });

  for (const n of nodes) {
    if (n.availability === 'decommissioned') skip(n, 'DECOMMISSIONED');
    else if (n.availability === 'not-enrolled') skip(n, 'NOT_ENROLLED');
    else if (!named.has(n.nodeName)) skip(n, 'NOT_IN_SPEC');
    else if (n.appliedRevision === targetRevision) skip(n, 'UP_TO_DATE');
    else if (n.hasLiveCommand) skip(n, 'COMMAND_IN_FLIGHT');
    // Commands to an unreachable node would only expire in its queue; its Hello on return reconciles it.
    else if (n.availability === 'unreachable') skip(n, 'UNREACHABLE');
    else if (n.failedAttempts >= retry.maxAttempts) skip(n, 'GAVE_UP');
    else {
      const retryAt = n.lastFailureAt ? new Date(n.lastFailureAt.getTime() + retryDelayMs(n.failedAttempts, retry)) : undefined;
      if (retryAt && retryAt > now) skip(n, 'BACKING_OFF', retryAt);
      else eligible.push(n);
    }
  }

  const chosen = new Set((input.select ?? selectAllNodes)(eligible, nodes).map((n) => n.nodeId));
  for (const n of eligible) {
    if (chosen.has(n.nodeId)) decisions.set(n.nodeId, { nodeId: n.nodeId, nodeName: n.nodeName, action: 'issue' });
    else skip(n, 'HELD_BY_POLICY');
  }
  return nodes.map((n) => decisions.get(n.nodeId) as NodeDecision);
}
