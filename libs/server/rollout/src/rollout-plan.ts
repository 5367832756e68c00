/**
 * The rollout's decisions as plain functions over what the driver read from Postgres and Redis:
 * the health gate, what happens to a step in flight, which steps start next, how a rollout ends,
 * and which nodes the reconciler may send the revision to. No I/O here.
 */
import { selectAllNodes, type SelectNodesToUpdate } from '@triad/commands';
import { CommandStatus, NodeStatus, RolloutStatus, RolloutStepStatus } from '@triad/db';

export interface RolloutTimings {
  /** A step's command must succeed within this long of the step starting. */
  applyTimeoutMs: number;
  /** Health must be seen at least this long after the command succeeded (lets a reload settle). */
  healthGraceMs: number;
  /** The node must be healthy within this long of the command succeeding. */
  healthTimeoutMs: number;
}

/** One component as a heartbeat reports it (`ComponentHealth` with the state's enum name). */
export interface ComponentReport {
  component: string;
  state: string;
  summary?: string;
}

export interface HeartbeatView {
  /** Unix ms the control plane received it. */
  at: number;
  appliedRevision: number;
  components: readonly ComponentReport[];
}

/** States that pass the gate: OK, and components this node does not run. */
const PASSING_STATES = new Set(['COMPONENT_OK', 'COMPONENT_NOT_CONFIGURED']);

/**
 * What keeps a node from being healthy, one string per problem: a component not OK, and each
 * `; `-separated item of its summary ("haproxy COMPONENT_DEGRADED: backend galera DOWN"), so a
 * new problem in an already degraded component still shows as new.
 */
export function healthProblems(components: readonly ComponentReport[]): string[] {
  return components
    .filter((c) => !PASSING_STATES.has(c.state))
    .flatMap((c) => (c.summary ? c.summary.split('; ').map((item) => `${c.component} ${c.state}: ${item}`) : [`${c.component} ${c.state}`]))
    .sort();
}

/**
 * The node's health problems before its step, or 'wait' while its latest heartbeat is from less
 * than the grace after its last applied change (a node still settling from the previous apply
 * would give a baseline that misses problems it is about to show). Waits at most the health
 * timeout after that apply; a node never heard from gets an empty (strict) baseline, and so does
 * a node joining a running cluster (`joining`: its first revision while other nodes have one):
 * everything it lacks before that revision (Galera, RabbitMQ, Pacemaker not running) is what the
 * revision must bring, so it must come up healthy.
 */
export function healthBaseline(input: { heartbeat: HeartbeatView | undefined; lastAppliedAt: number | null; now: number; timings: RolloutTimings; joining?: boolean }): string[] | 'wait' {
  const { heartbeat, lastAppliedAt, now, timings } = input;
  if (!heartbeat || input.joining) return [];
  const settling = lastAppliedAt !== null && heartbeat.at < lastAppliedAt + timings.healthGraceMs;
  if (settling && now < lastAppliedAt + timings.healthTimeoutMs) return 'wait';
  return healthProblems(heartbeat.components);
}

export type GateVerdict = { verdict: 'pass' } | { verdict: 'wait'; reason: string } | { verdict: 'fail'; reason: string };

/**
 * A node is healthy on the revision when a heartbeat received at least `healthGraceMs` after its
 * command succeeded reports that revision and no health problem it did not already have when its
 * step started (`baseline`): a rollout must not make a node worse, and must be able to roll out
 * the fix for a problem a cluster already has. Until then it waits; still not so
 * `healthTimeoutMs` after the apply, it fails with what was last seen. A heartbeat after the
 * grace that reports another revision fails at once (the agent undid it).
 */
export function healthGate(input: {
  targetRevision: number;
  appliedAt: number;
  heartbeat: HeartbeatView | undefined;
  baseline: readonly string[];
  now: number;
  timings: RolloutTimings;
  /** Nodes this rollout adds that have not joined yet: problems only about them are expected (`expectedWhileJoining`). */
  joiningNodes?: readonly string[];
}): GateVerdict {
  const { targetRevision, appliedAt, heartbeat, baseline, now, timings } = input;
  const joining = input.joiningNodes ?? [];
  const fresh = heartbeat && heartbeat.at >= appliedAt + timings.healthGraceMs ? heartbeat : undefined;
  let waiting: string;
  if (!fresh) {
    waiting = 'no heartbeat since the revision was applied';
  } else if (fresh.appliedRevision !== targetRevision) {
    return { verdict: 'fail', reason: `node reports revision ${fresh.appliedRevision} after applying ${targetRevision}` };
  } else if (fresh.components.length === 0) {
    // A Hello carries no health; only a heartbeat that reports components can pass.
    waiting = 'no component health reported yet';
  } else {
    const known = new Set(baseline);
    const bad = healthProblems(fresh.components).filter((p) => !known.has(p) && !expectedWhileJoining(p, joining));
    if (bad.length === 0) return { verdict: 'pass' };
    waiting = `unhealthy: ${bad.join(', ')}`;
  }
  if (now - appliedAt >= timings.healthTimeoutMs) return { verdict: 'fail', reason: `health gate timed out after ${timings.healthTimeoutMs} ms: ${waiting}` };
  return { verdict: 'wait', reason: waiting };
}

/**
 * A health problem an existing node shows only because nodes the rollout adds have not joined
 * yet (they get the revision last): it names one of them ("controller-4 offline", "backend
 * keystone: controller-4 DOWN", "not running: rabbit@controller-4"), or it is a member count
 * short by at most their number ("3/4 nodes online", "3 of 4 nodes running", "cluster size 3 of
 * 4"). Anything else is still held against the node.
 */
export function expectedWhileJoining(problem: string, joiningNodes: readonly string[]): boolean {
  if (joiningNodes.length === 0) return false;
  if (joiningNodes.some((name) => new RegExp(`(^|[^a-z0-9-])${name}($|[^a-z0-9-])`).test(problem))) return true;
  const counts = [...problem.matchAll(/\b(\d+)(?: of |\/)(\d+)\b/g)];
  return counts.length > 0 && counts.every(([, have, want]) => Number(want) - Number(have) > 0 && Number(want) - Number(have) <= joiningNodes.length);
}

/** What the driver knows about one step in flight. */
export interface StepObservation {
  status: RolloutStepStatus;
  startedAt: Date;
  command?: { status: CommandStatus; finishedAt: Date | null; reason: string | null; message: string | null };
  rollbackCommand?: { status: CommandStatus; reason: string | null; message: string | null };
  heartbeat?: HeartbeatView;
  /** `healthProblems` of the node's last heartbeat before its step started. */
  baseline: readonly string[];
  /** Other nodes this rollout adds that have not joined yet (see `expectedWhileJoining`). */
  joiningNodes?: readonly string[];
}

export type StepAction =
  | { kind: 'none'; note?: string }
  | { kind: 'verify' }
  | { kind: 'succeed' }
  /** The step failed: roll the node back to its previous revision. */
  | { kind: 'roll-back'; reason: string }
  | { kind: 'rolled-back' }
  | { kind: 'rollback-failed'; reason: string };

const FAILED_COMMAND = new Set([CommandStatus.FAILED, CommandStatus.REFUSED, CommandStatus.EXPIRED]);

function commandFailure(c: { status: CommandStatus; reason: string | null; message: string | null }): string {
  return `command ${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`;
}

/** The next move of a step that is APPLYING, VERIFYING or ROLLING_BACK. */
export function stepAction(step: StepObservation, targetRevision: number, now: Date, timings: RolloutTimings): StepAction {
  switch (step.status) {
    case RolloutStepStatus.APPLYING: {
      const c = step.command;
      if (c?.status === CommandStatus.SUCCEEDED) return { kind: 'verify' };
      if (c && FAILED_COMMAND.has(c.status)) return { kind: 'roll-back', reason: commandFailure(c) };
      if (now.getTime() - step.startedAt.getTime() >= timings.applyTimeoutMs) return { kind: 'roll-back', reason: `apply timed out after ${timings.applyTimeoutMs} ms (command ${c?.status ?? 'missing'})` };
      return { kind: 'none' };
    }
    case RolloutStepStatus.VERIFYING: {
      const appliedAt = (step.command?.finishedAt ?? step.startedAt).getTime();
      const gate = healthGate({ targetRevision, appliedAt, heartbeat: step.heartbeat, baseline: step.baseline, now: now.getTime(), timings, joiningNodes: step.joiningNodes });
      if (gate.verdict === 'pass') return { kind: 'succeed' };
      if (gate.verdict === 'fail') return { kind: 'roll-back', reason: gate.reason };
      return { kind: 'none', note: gate.reason };
    }
    case RolloutStepStatus.ROLLING_BACK: {
      const c = step.rollbackCommand;
      if (c?.status === CommandStatus.SUCCEEDED) return { kind: 'rolled-back' };
      if (c && FAILED_COMMAND.has(c.status)) return { kind: 'rollback-failed', reason: `rollback ${commandFailure(c)}` };
      if (!c) return { kind: 'rollback-failed', reason: 'rollback command missing' };
      return { kind: 'none' };
    }
    default:
      return { kind: 'none' };
  }
}

export const IN_FLIGHT_STEP_STATUSES: readonly RolloutStepStatus[] = [RolloutStepStatus.APPLYING, RolloutStepStatus.VERIFYING, RolloutStepStatus.ROLLING_BACK];
const STOPPED_STEP_STATUSES: readonly RolloutStepStatus[] = [RolloutStepStatus.FAILED, RolloutStepStatus.ROLLED_BACK];
export const ACTIVE_ROLLOUT_STATUSES: readonly RolloutStatus[] = [RolloutStatus.PENDING, RolloutStatus.RUNNING];

export interface StepSummary {
  order: number;
  nodeName: string;
  status: RolloutStepStatus;
  reason: string | null;
}

/**
 * Steps to start now: the next PENDING ones by order while fewer than `maxUnavailable` are in
 * flight. None once a step has failed (later nodes are left alone) or the rollout is stopping.
 */
export function stepsToStart<S extends StepSummary>(steps: readonly S[], maxUnavailable: number, stopping: boolean): S[] {
  if (stopping || steps.some((s) => STOPPED_STEP_STATUSES.includes(s.status))) return [];
  const inFlight = steps.filter((s) => IN_FLIGHT_STEP_STATUSES.includes(s.status)).length;
  const room = Math.max(0, maxUnavailable - inFlight);
  return [...steps]
    .filter((s) => s.status === RolloutStepStatus.PENDING)
    .sort((a, b) => a.order - b.order)
    .slice(0, room);
}

/**
 * Node order of a rollout: the cluster's members by name, so the same cluster always rolls out
 * the same way, then nodes that never applied a revision (joining: scale-out), also by name —
 * the members must accept a new node (corosync nodelist, Galera and RabbitMQ peers, HAProxy
 * backends) before it starts its stack and joins them.
 */
export function orderNodes<N extends { name: string; appliedRevision: number }>(nodes: readonly N[]): N[] {
  const joining = (n: N) => (n.appliedRevision === 0 ? 1 : 0);
  return [...nodes].sort((a, b) => joining(a) - joining(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Bring-up: no node of the cluster has applied any revision yet. Then a revision goes to every
 * node at once (they need each other for quorum before any of them can look healthy); otherwise
 * a node without a revision is joining a running cluster and gets it last, through the rollout.
 */
export function isBringUp(nodes: readonly { appliedRevision: number | null }[]): boolean {
  return nodes.every((n) => !n.appliedRevision);
}

export type RolloutEnd = { status: RolloutStatus.SUCCEEDED | RolloutStatus.FAILED | RolloutStatus.ROLLED_BACK | RolloutStatus.SUPERSEDED; reason: string | null };

/**
 * How a RUNNING rollout ends, once nothing is in flight: an abort rolls it back, a stopped step
 * fails it (the first one's reason), a newer revision supersedes it, else it succeeds when no step
 * is left. `undefined`: it goes on.
 */
export function rolloutEnd(steps: readonly StepSummary[], flags: { aborted: boolean; supersededBy: number | null }): RolloutEnd | undefined {
  if (steps.some((s) => IN_FLIGHT_STEP_STATUSES.includes(s.status))) return undefined;
  // An abort rolls the nodes in flight back itself: their ROLLED_BACK steps are not a failure.
  if (flags.aborted) return { status: RolloutStatus.ROLLED_BACK, reason: 'aborted by an operator' };
  const stopped = [...steps].sort((a, b) => a.order - b.order).find((s) => STOPPED_STEP_STATUSES.includes(s.status));
  if (stopped) return { status: RolloutStatus.FAILED, reason: `${stopped.nodeName}: ${stopped.reason ?? stopped.status}` };
  if (flags.supersededBy !== null) return { status: RolloutStatus.SUPERSEDED, reason: `superseded by revision ${flags.supersededBy}` };
  if (steps.every((s) => s.status === RolloutStepStatus.SUCCEEDED || s.status === RolloutStepStatus.SKIPPED)) return { status: RolloutStatus.SUCCEEDED, reason: null };
  return undefined;
}

/**
 * Which nodes the reconciler may send the rollout's revision to. A succeeded rollout releases
 * every node (late and returning nodes converge through the reconciler); otherwise only nodes
 * whose step succeeded (so their drift is repaired) — the rollout itself sends to the others, and
 * a failed or aborted rollout pins them to what they have until a new revision or retryRollout.
 * No rollout yet for the revision: nobody (it is being created).
 */
export function releasedNodes(rollout: { status: RolloutStatus } | undefined, steps: readonly { nodeId: string; status: RolloutStepStatus }[]): 'all' | Set<string> {
  if (rollout?.status === RolloutStatus.SUCCEEDED) return 'all';
  return new Set(steps.filter((s) => s.status === RolloutStepStatus.SUCCEEDED).map((s) => s.nodeId));
}

/**
 * The reconciler's policy from `releasedNodes`. During bring-up — the cluster's first revision, or
 * no node of the cluster has applied any revision (`isBringUp`) — nodes that never applied a
 * revision are released too: there is nothing on them to protect, and they need each other for
 * quorum. (The first revision counts as bring-up throughout, so the first node to apply it does
 * not turn the others into joining nodes.) A node joining a running cluster is not released: the
 * rollout sends it the revision after the members (or the reconciler, once the rollout succeeded).
 */
export function releasePolicy(released: 'all' | Set<string>, firstRevision: boolean): SelectNodesToUpdate {
  if (released === 'all') return selectAllNodes;
  return (eligible, all) => {
    const bringUp = firstRevision || isBringUp(all.filter((n) => n.availability !== 'decommissioned'));
    return eligible.filter((n) => (bringUp && !n.appliedRevision) || released.has(n.nodeId));
  };
}

/** Reason a node is skipped when its turn comes, or undefined if it gets the revision. */
export function skipReason(node: { status: NodeStatus; appliedRevision: number }, targetRevision: number, bringUp: boolean): string | undefined {
  if (node.status === NodeStatus.DECOMMISSIONED) return 'node decommissioned';
  if (node.appliedRevision === targetRevision) return `already at revision ${targetRevision}`;
  if (node.appliedRevision === 0 && bringUp) return 'node has no revision yet: a first revision goes to every node of a new cluster at once, through the reconciler';
  if (node.status === NodeStatus.UNREACHABLE) return 'node unreachable; it converges through the reconciler once the rollout has succeeded';
  return undefined;
}
