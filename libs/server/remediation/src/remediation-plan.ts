import type { FindingCode, FindingView, NodeActionName } from './upstream';

/**
 * Remediation decisions as plain functions over plain data (no I/O): which playbook run, if any,
 * a cluster gets now, whether a step may be taken without losing quorum, whether a tenant is
 * frozen, and which Galera member bootstraps. The service reads the rows, calls these, writes.
 */

export type RemediationPolicyName = 'AUTOMATIC' | 'APPROVAL' | 'OFF';
export type NodeLiveness = 'PENDING' | 'ONLINE' | 'SUSPECT' | 'UNREACHABLE' | 'DECOMMISSIONED';

export type PlaybookName = 'cluster_stack.recover' | 'pacemaker.cleanup' | 'galera.rejoin' | 'galera.recover_outage' | 'rabbitmq.recover' | 'config.reapply';

/** Step actions besides the node actions: the desired revision again, waits, and the Galera election. */
export type WaitAction = 'wait.node_rejoined' | 'wait.resources_started' | 'wait.resource_recovered' | 'wait.galera_synced' | 'wait.rabbitmq_running' | 'wait.revision_applied';
export type StepAction = NodeActionName | 'apply_revision' | 'galera.elect' | WaitAction;

export interface PlannedStep {
  nodeName: string | null;
  action: StepAction;
  args: Record<string, unknown>;
}

export interface PlannerNode {
  name: string;
  status: NodeLiveness;
}

export interface AttemptView {
  findingKey: string;
  count: number;
  windowStartedAt: Date;
  nextAttemptAt: Date | null;
  escalatedAt: Date | null;
}

export interface RemediationLimits {
  /** Runs per finding per window before it is escalated. */
  maxAttempts: number;
  /** pacemaker.cleanup runs per resource per window before it is escalated. */
  cleanupMaxPerWindow: number;
  attemptWindowMs: number;
  /** Wait after the n-th run of a finding: base · 2^(n-1), at most max. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_LIMITS: RemediationLimits = { maxAttempts: 3, cleanupMaxPerWindow: 3, attemptWindowMs: 3_600_000, backoffBaseMs: 30_000, backoffMaxMs: 600_000 };

export interface PlannerInput {
  now: Date;
  policy: RemediationPolicyName;
  maintenance: boolean;
  /** Why the tenant (or everything) is frozen; null when it is not. */
  freeze: string | null;
  /**
   * Why the cluster is not Triad's to repair right now although nothing is frozen: still being
   * built (never HEALTHY since its bring-up), or a rollout is changing it. Null otherwise.
   */
  hold: string | null;
  /** A run of the cluster that has not ended (one run per cluster at a time). */
  activeRun: { id: string; status: string } | null;
  findings: readonly FindingView[];
  /** The cluster's enrolled nodes. */
  nodes: readonly PlannerNode[];
  /** Members the spec names (quorum is a majority of these). */
  expectedMembers: number;
  attempts: readonly AttemptView[];
  limits: RemediationLimits;
  /** The Pacemaker resource running Galera, or null when Galera runs outside Pacemaker. */
  galeraResource: string | null;
  /**
   * The Pacemaker primitive running RabbitMQ (ocf:heartbeat:rabbitmq-cluster), or null when the
   * agent runs it: with Pacemaker a node's RabbitMQ is restarted by cleaning the resource up there
   * (Pacemaker re-probes and starts it), never by the agent behind Pacemaker's back.
   */
  rabbitmqResource?: string | null;
  /**
   * Nodes the current revision may not go to now (a rollout of it failed before reaching them:
   * they are pinned to their revision until a new revision or retryRollout), with the reason.
   */
  pinned?: { nodes: readonly string[]; reason: string } | null;
}

export type PlanDecision =
  | { kind: 'none'; reason: string }
  /** The finding's attempts are used up in this window: an ESCALATED run (no steps) tells the operator, once. */
  | { kind: 'escalate'; playbook: PlaybookName; findingKeys: string[]; nodeName: string | null; reason: string }
  | { kind: 'run'; playbook: PlaybookName; findingKeys: string[]; nodeName: string | null; steps: PlannedStep[]; awaitingApproval: boolean; reason: string };

/** Findings Triad repairs, most urgent first: the stack (quorum) before Galera, before the rest. */
export const PLAYBOOK_ORDER: ReadonlyArray<{ codes: readonly FindingCode[]; playbook: PlaybookName }> = [
  { codes: ['CLUSTER_STACK_DOWN'], playbook: 'cluster_stack.recover' },
  { codes: ['GALERA_NO_PRIMARY'], playbook: 'galera.recover_outage' },
  { codes: ['GALERA_DOWN', 'GALERA_NOT_SYNCED'], playbook: 'galera.rejoin' },
  { codes: ['RESOURCE_BLOCKED', 'RESOURCE_FAILED'], playbook: 'pacemaker.cleanup' },
  { codes: ['RABBITMQ_DOWN', 'RABBITMQ_PARTITION'], playbook: 'rabbitmq.recover' },
  { codes: ['CONFIG_DRIFT'], playbook: 'config.reapply' },
];

const reachable = (n: PlannerNode | undefined) => n?.status === 'ONLINE';

export function planRemediation(input: PlannerInput): PlanDecision {
  if (input.maintenance) return { kind: 'none', reason: 'maintenance mode is on: no remediation' };
  if (input.policy === 'OFF') return { kind: 'none', reason: 'remediation policy is OFF' };
  if (input.freeze) return { kind: 'none', reason: `frozen: ${input.freeze}` };
  if (input.hold) return { kind: 'none', reason: input.hold };
  if (input.activeRun) return { kind: 'none', reason: `run ${input.activeRun.id} is ${input.activeRun.status}; one run per cluster at a time` };

  const nodes = new Map(input.nodes.map((n) => [n.name, n]));
  const skipped: string[] = [];
  for (const { codes, playbook } of PLAYBOOK_ORDER) {
    const candidates = input.findings.filter((f) => codes.includes(f.code) && f.owner === 'TRIAD').sort((a, b) => a.firstSeenAt.getTime() - b.firstSeenAt.getTime() || a.key.localeCompare(b.key));
    for (const f of candidates) {
      // A node Triad cannot hear from is never remediated: it may be our network, not their node.
      if (f.nodeName !== null && !reachable(nodes.get(f.nodeName))) {
        skipped.push(`${f.key}: node ${f.nodeName} is ${nodes.get(f.nodeName)?.status ?? 'unknown'}`);
        continue;
      }
      const gate = attemptGate(f, playbook, input);
      if (gate.kind === 'escalate') return { kind: 'escalate', playbook, findingKeys: [f.key], nodeName: f.nodeName, reason: gate.reason };
      if (gate.kind === 'wait') {
        skipped.push(`${f.key}: ${gate.reason}`);
        continue;
      }
      const steps = playbookSteps(playbook, f, input);
      if ('skip' in steps) {
        skipped.push(`${f.key}: ${steps.skip}`);
        continue;
      }
      const first = steps.steps[0];
      const quorum = first ? checkQuorum(quorumView(input.nodes, input.findings, input.expectedMembers), first) : { ok: true as const };
      if (!quorum.ok) {
        skipped.push(`${f.key}: ${quorum.reason}`);
        continue;
      }
      return {
        kind: 'run',
        playbook,
        findingKeys: [f.key],
        nodeName: f.nodeName,
        steps: steps.steps,
        awaitingApproval: input.policy === 'APPROVAL',
        reason: `${f.code}${f.nodeName ? ` on ${f.nodeName}` : ''}${f.subject ? ` (${f.subject})` : ''}`,
      };
    }
  }
  return { kind: 'none', reason: skipped.length ? `nothing to run: ${skipped.join('; ')}` : 'no finding Triad repairs' };
}

type Gate = { kind: 'go' } | { kind: 'wait'; reason: string } | { kind: 'escalate'; reason: string };

/** Attempts are capped per finding and window (cleanups by their own bound), with exponential backoff. */
export function attemptGate(f: FindingView, playbook: PlaybookName, input: Pick<PlannerInput, 'attempts' | 'limits' | 'now'>): Gate {
  const a = input.attempts.find((x) => x.findingKey === f.key);
  if (!a || input.now.getTime() - a.windowStartedAt.getTime() >= input.limits.attemptWindowMs) return { kind: 'go' };
  const cap = playbook === 'pacemaker.cleanup' ? input.limits.cleanupMaxPerWindow : input.limits.maxAttempts;
  if (a.count >= cap) {
    if (a.escalatedAt) return { kind: 'wait', reason: `escalated at ${a.escalatedAt.toISOString()} after ${a.count} runs; waiting for an operator` };
    return { kind: 'escalate', reason: `${a.count} runs for ${f.key} within ${Math.round(input.limits.attemptWindowMs / 60_000)} min did not fix it (cap ${cap}); an operator must look` };
  }
  if (a.nextAttemptAt && a.nextAttemptAt > input.now) return { kind: 'wait', reason: `backing off until ${a.nextAttemptAt.toISOString()}` };
  return { kind: 'go' };
}

/** When the n-th run (n ≥ 1) of a finding may be followed by another. */
export function nextAttemptAt(count: number, now: Date, limits: RemediationLimits): Date {
  const wait = Math.min(limits.backoffMaxMs, limits.backoffBaseMs * 2 ** Math.max(0, count - 1));
  return new Date(now.getTime() + wait);
}

function playbookSteps(playbook: PlaybookName, f: FindingView, input: PlannerInput): { steps: PlannedStep[] } | { skip: string } {
  const node = f.nodeName;
  switch (playbook) {
    case 'cluster_stack.recover':
      if (!node) return { skip: 'no node named' };
      return {
        steps: [
          { nodeName: node, action: 'cluster_stack.start', args: {} },
          { nodeName: node, action: 'wait.node_rejoined', args: {} },
          { nodeName: node, action: 'wait.resources_started', args: {} },
        ],
      };
    case 'pacemaker.cleanup': {
      const resource = typeof f.detail['resource'] === 'string' ? f.detail['resource'] : f.subject;
      if (!resource) return { skip: 'no resource named' };
      // A cluster-wide cleanup runs on any node Triad can reach.
      const on = node ?? input.nodes.find(reachable)?.name;
      if (!on) return { skip: 'no reachable node to run the cleanup on' };
      return {
        steps: [
          { nodeName: on, action: 'pacemaker.cleanup', args: { resource } },
          { nodeName: null, action: 'wait.resource_recovered', args: { resource, findingKey: f.key } },
        ],
      };
    }
    case 'galera.rejoin': {
      if (!node) return { skip: 'no node named' };
      if (input.findings.some((x) => x.code === 'GALERA_NO_PRIMARY')) return { skip: 'Galera has no Primary component: a member cannot rejoin it' };
      const join: PlannedStep[] = [
        { nodeName: node, action: 'galera.join', args: {} },
        { nodeName: node, action: 'wait.galera_synced', args: {} },
      ];
      return { steps: input.galeraResource ? withUnmanaged(input.galeraResource, node, join) : join };
    }
    case 'galera.recover_outage': {
      // The galera resource agent recovers an outage itself once every member's stack runs and
      // Pacemaker has quorum (it waits for every member's position); Triad steps in only when it
      // could not (the grace restarts when the last member came back, @triad/health).
      if (input.galeraResource && input.findings.some((x) => x.code === 'CLUSTER_STACK_DOWN' || x.code === 'QUORUM_LOST')) {
        return { skip: 'the cluster stack is not running everywhere yet: it comes first, then the galera resource agent recovers Galera' };
      }
      const members = input.nodes.filter((n) => n.status !== 'DECOMMISSIONED' && n.status !== 'PENDING').map((n) => n.name).sort();
      const reporters = input.nodes.filter(reachable).map((n) => n.name).sort();
      const first = reporters[0];
      if (!first) return { skip: 'no member is reachable' };
      const steps: PlannedStep[] = [
        ...reporters.map((name): PlannedStep => ({ nodeName: name, action: 'galera.report_position', args: {} })),
        // Inserts the bootstrap and the joins (before the give-back) once the positions are in.
        { nodeName: null, action: 'galera.elect', args: { members } },
      ];
      return { steps: input.galeraResource ? withUnmanaged(input.galeraResource, first, steps) : steps };
    }
    case 'rabbitmq.recover': {
      if (!node) return { skip: 'no node named (the minority side of a partition is not known)' };
      const wait: PlannedStep = { nodeName: node, action: 'wait.rabbitmq_running', args: {} };
      if (input.rabbitmqResource && f.code === 'RABBITMQ_DOWN') return { steps: [{ nodeName: node, action: 'pacemaker.cleanup', args: { resource: input.rabbitmqResource } }, wait] };
      // A minority partition: rejoin (reset and join) needs the app stopped, which the resource agent would fight.
      const rejoin: PlannedStep = { nodeName: node, action: f.code === 'RABBITMQ_PARTITION' ? 'rabbitmq.rejoin' : 'rabbitmq.restart', args: {} };
      return { steps: input.rabbitmqResource ? withUnmanaged(input.rabbitmqResource, node, [rejoin, wait]) : [rejoin, wait] };
    }
    case 'config.reapply':
      if (!node) return { skip: 'no node named' };
      if (input.pinned?.nodes.includes(node)) return { skip: `${node} is pinned to its revision: ${input.pinned.reason}` };
      return {
        steps: [
          { nodeName: node, action: 'apply_revision', args: {} },
          { nodeName: node, action: 'wait.revision_applied', args: {} },
        ],
      };
  }
}

/** Takes the resource out of Pacemaker's hands for `work` and gives it back after (both steps recorded). */
function withUnmanaged(resource: string, node: string, work: PlannedStep[]): PlannedStep[] {
  return [
    { nodeName: node, action: 'pacemaker.set_managed', args: { resource, managed: false } },
    ...work,
    { nodeName: node, action: 'pacemaker.set_managed', args: { resource, managed: true } },
  ];
}

/** A give-back step runs even after an earlier step failed: Triad never leaves a resource unmanaged. */
export function isGiveBack(step: { action: string; args: Record<string, unknown> }): boolean {
  return step.action === 'pacemaker.set_managed' && step.args['managed'] === true;
}

// ---- quorum ----

export type QuorumComponent = 'pacemaker' | 'galera' | 'rabbitmq';

export interface QuorumView {
  expected: number;
  /** Nodes counting as members of each component right now. */
  members: Record<QuorumComponent, string[]>;
  /** No reachable node has quorum (the cluster-wide QUORUM_LOST finding). */
  quorumLost: boolean;
}

const NOT_MEMBER: Record<QuorumComponent, readonly FindingCode[]> = {
  // A node whose own partition has no quorum (QUORUM_LOST on it: a restarted stack before it merges) is not in the quorate one.
  pacemaker: ['CLUSTER_STACK_DOWN', 'PACEMAKER_NODE_OFFLINE', 'QUORUM_LOST'],
  galera: ['GALERA_DOWN', 'GALERA_NOT_SYNCED'],
  rabbitmq: ['RABBITMQ_DOWN', 'RABBITMQ_PARTITION'],
};

export function quorumView(nodes: readonly PlannerNode[], findings: readonly FindingView[], expected: number): QuorumView {
  const online = nodes.filter(reachable).map((n) => n.name);
  const members = (c: QuorumComponent) => online.filter((name) => !findings.some((f) => f.nodeName === name && NOT_MEMBER[c].includes(f.code)));
  return {
    expected: Math.max(expected, nodes.length),
    members: { pacemaker: members('pacemaker'), galera: findings.some((f) => f.code === 'GALERA_NO_PRIMARY') ? [] : members('galera'), rabbitmq: members('rabbitmq') },
    // Cluster-wide only: QUORUM_LOST on one node means its partition is the minority, not that the cluster lost quorum.
    quorumLost: findings.some((f) => f.code === 'QUORUM_LOST' && f.nodeName === null),
  };
}

/** Which membership a step takes its node out of while it runs. */
const DISRUPTS: Partial<Record<StepAction, QuorumComponent>> = {
  'cluster_stack.restart': 'pacemaker',
  'galera.join': 'galera',
  'rabbitmq.restart': 'rabbitmq',
  'rabbitmq.rejoin': 'rabbitmq',
};

/** Steps that may run while Pacemaker has no quorum: they are how quorum comes back, or they only read. */
const ALLOWED_WITHOUT_QUORUM: readonly StepAction[] = ['cluster_stack.start', 'wait.node_rejoined', 'wait.resources_started', 'galera.report_position'];

/** Quorum is checked before every step (and after, by the runner): a step that would lose it is not taken. */
export function checkQuorum(view: QuorumView, step: PlannedStep): { ok: true } | { ok: false; reason: string } {
  const majority = Math.floor(view.expected / 2) + 1;
  if (!quorumHeld(view) && !ALLOWED_WITHOUT_QUORUM.includes(step.action)) {
    return { ok: false, reason: `the cluster has no quorum (${view.members.pacemaker.length} of ${view.expected} members); only restarting the cluster stack is allowed` };
  }
  const component = DISRUPTS[step.action];
  if (component && step.nodeName && view.members[component].includes(step.nodeName)) {
    const left = view.members[component].length - 1;
    if (left < majority) {
      return { ok: false, reason: `${step.action} on ${step.nodeName} would leave ${left} of ${view.expected} ${component} members, below the majority of ${majority}` };
    }
  }
  return { ok: true };
}

/**
 * After a step that needs quorum, the run stops if Pacemaker lost it. Steps allowed without
 * quorum (starting a stack, waiting, reading a position) cannot have taken it away — a loss seen
 * after one happened beside it (the other stacks going down just before), and stopping would only
 * keep quorum from coming back.
 */
export function stopsWithoutQuorum(step: Pick<PlannedStep, 'action'>): boolean {
  return !ALLOWED_WITHOUT_QUORUM.includes(step.action);
}

/** Whether Pacemaker has quorum in the view: no cluster-wide QUORUM_LOST and a majority of members. */
export function quorumHeld(view: QuorumView): boolean {
  return !view.quorumLost && view.members.pacemaker.length >= Math.floor(view.expected / 2) + 1;
}

// ---- mass-failure freeze ----

export interface FreezeThresholds {
  /** Share of a tenant's nodes that must look bad at once (0.55). */
  ratio: number;
  /** And at least this many (3). */
  minNodes: number;
}

export const DEFAULT_FREEZE: FreezeThresholds = { ratio: 0.55, minNodes: 3 };

export interface TenantNodes {
  tenantId: string;
  /** Statuses of the tenant's enrolled, not decommissioned nodes. */
  statuses: readonly NodeLiveness[];
}

export interface FreezeDecision {
  /** Every tenant looks bad: nothing runs anywhere. */
  global: string | null;
  /** Tenants frozen, with the reason. */
  tenants: Map<string, string>;
}

/**
 * A node "looks bad" when Triad cannot hear from it (SUSPECT or UNREACHABLE): agents that report
 * failures prove our network works, so broken services never freeze; silence from most of a
 * tenant's nodes at once is more likely our side than their cloud.
 */
export function massFailureFreeze(tenants: readonly TenantNodes[], t: FreezeThresholds = DEFAULT_FREEZE): FreezeDecision {
  const frozen = new Map<string, string>();
  let withNodes = 0;
  for (const { tenantId, statuses } of tenants) {
    if (statuses.length === 0) continue;
    withNodes++;
    const bad = statuses.filter((s) => s === 'SUSPECT' || s === 'UNREACHABLE').length;
    if (bad >= t.minNodes && bad / statuses.length >= t.ratio) {
      frozen.set(tenantId, `${bad} of ${statuses.length} nodes of the tenant are SUSPECT or UNREACHABLE at once (threshold ${Math.round(t.ratio * 100)}%, at least ${t.minNodes}): more likely our network than their cloud`);
    }
  }
  const global = withNodes > 0 && frozen.size === withNodes ? `every tenant (${withNodes}) has most of its nodes SUSPECT or UNREACHABLE at once: all remediation frozen` : null;
  return { global, tenants: frozen };
}

// ---- Galera full-outage election ----

export interface GaleraPosition {
  uuid: string;
  seqno: number;
  safeToBootstrap: boolean;
  running: boolean;
}

export type Election =
  | { kind: 'winner'; node: string; force: boolean; reason: string }
  | { kind: 'needs-approval'; candidate: string | null; missing: string[]; reason: string }
  | { kind: 'not-needed'; reason: string };

/**
 * The galera resource agent's rule: a member with safe_to_bootstrap: 1 wins; otherwise only once
 * every member has reported, the highest seqno (ties by name). Missing reports: nothing
 * bootstraps unless an operator approved (then the most advanced reported member, forced).
 */
export function electBootstrapNode(members: readonly string[], reports: ReadonlyMap<string, GaleraPosition>, partialApproved: boolean): Election {
  const reported = members.filter((m) => reports.has(m)).map((m) => ({ node: m, ...(reports.get(m) as GaleraPosition) }));
  const running = reported.filter((r) => r.running);
  if (running.length > 0) return { kind: 'not-needed', reason: `mariadbd already runs on ${running.map((r) => r.node).join(', ')}` };
  const byAdvance = (a: { node: string; seqno: number }, b: { node: string; seqno: number }) => b.seqno - a.seqno || a.node.localeCompare(b.node);
  const safe = reported.filter((r) => r.safeToBootstrap).sort(byAdvance)[0];
  if (safe) return { kind: 'winner', node: safe.node, force: false, reason: `${safe.node} has safe_to_bootstrap: 1 (seqno ${safe.seqno})` };
  const known = reported.filter((r) => r.seqno >= 0).sort(byAdvance);
  const missing = members.filter((m) => !known.some((k) => k.node === m));
  const best = known[0];
  if (missing.length === 0 && best) {
    return { kind: 'winner', node: best.node, force: true, reason: `every member reported; ${best.node} has the highest seqno ${best.seqno}` };
  }
  if (partialApproved && best) {
    return { kind: 'winner', node: best.node, force: true, reason: `operator approved bootstrapping without ${missing.join(', ')}; ${best.node} has the highest reported seqno ${best.seqno}` };
  }
  return {
    kind: 'needs-approval',
    candidate: best?.node ?? null,
    missing,
    reason: `${missing.join(', ')} did not report a position; nothing bootstraps on partial data until an operator approves${best ? ` (candidate ${best.node}, seqno ${best.seqno})` : ''}`,
  };
}

/** The steps after a won election: bootstrap, then the others one at a time. */
export function stepsAfterElection(winner: string, force: boolean, members: readonly string[]): PlannedStep[] {
  const steps: PlannedStep[] = [
    { nodeName: winner, action: 'galera.bootstrap', args: force ? { force: true } : {} },
    { nodeName: winner, action: 'wait.galera_synced', args: {} },
  ];
  for (const m of members.filter((x) => x !== winner)) {
    steps.push({ nodeName: m, action: 'galera.join', args: {} }, { nodeName: m, action: 'wait.galera_synced', args: {} });
  }
  return steps;
}

/** Whether a wait step's condition holds, from the open findings and the node's liveness. */
export function waitSatisfied(step: PlannedStep, findings: readonly FindingView[], node: { status: NodeLiveness; appliedRevision: number } | undefined, currentRevision: number): boolean {
  const on = (codes: readonly FindingCode[]) => findings.some((f) => f.nodeName === step.nodeName && codes.includes(f.code));
  switch (step.action) {
    case 'wait.node_rejoined':
      // Merged into the quorate partition: its own partition without quorum is not "rejoined".
      return node?.status === 'ONLINE' && !on(['CLUSTER_STACK_DOWN', 'PACEMAKER_NODE_OFFLINE', 'QUORUM_LOST']);
    case 'wait.resources_started':
      // Started, not spotless: failed-action history (RESOURCE_FAILED) is the cleanup playbook's.
      return node?.status === 'ONLINE' && !on(['RESOURCE_STOPPED']);
    case 'wait.resource_recovered':
      return !findings.some((f) => f.key === step.args['findingKey']);
    case 'wait.galera_synced':
      return node?.status === 'ONLINE' && !on(['GALERA_DOWN', 'GALERA_NOT_SYNCED']) && !findings.some((f) => f.code === 'GALERA_NO_PRIMARY');
    case 'wait.rabbitmq_running':
      return node?.status === 'ONLINE' && !on(['RABBITMQ_DOWN', 'RABBITMQ_PARTITION']);
    case 'wait.revision_applied':
      return node?.appliedRevision === currentRevision && !on(['CONFIG_DRIFT']);
    default:
      return true;
  }
}
