import { CommandStatus, NodeStatus, RolloutStatus, RolloutStepStatus } from '@triad/db';
import type { NodeRevisionState } from '@triad/commands';
import { expectedWhileJoining, healthGate, isBringUp, orderNodes, releasePolicy, type ComponentReport, releasedNodes, rolloutEnd, skipReason, stepAction, stepsToStart, healthBaseline, healthProblems, type HeartbeatView, type RolloutTimings, type StepSummary } from './rollout-plan';

const timings: RolloutTimings = { applyTimeoutMs: 60_000, healthGraceMs: 1_000, healthTimeoutMs: 10_000 };
const ok = (component: string) => ({ component, state: 'COMPONENT_OK' });
const hb = (at: number, appliedRevision: number, components: ComponentReport[] = [ok('haproxy'), ok('pacemaker')]): HeartbeatView => ({ at, appliedRevision, components });

describe('healthGate', () => {
  const base = { targetRevision: 5, appliedAt: 100_000, baseline: [] as string[], timings };

  it('passes on a heartbeat after the grace that reports the revision with every component OK', () => {
    expect(healthGate({ ...base, heartbeat: hb(101_000, 5), now: 101_100 })).toEqual({ verdict: 'pass' });
  });

  it('counts components the node does not run as healthy', () => {
    expect(healthGate({ ...base, heartbeat: hb(101_000, 5, [ok('haproxy'), { component: 'galera', state: 'COMPONENT_NOT_CONFIGURED' }]), now: 101_100 }).verdict).toBe('pass');
  });

  it('does not trust a heartbeat from within the grace period (the reload may not have settled)', () => {
    expect(healthGate({ ...base, heartbeat: hb(100_500, 5), now: 100_600 })).toEqual({ verdict: 'wait', reason: 'no heartbeat since the revision was applied' });
  });

  it('waits while a component is DOWN or DEGRADED, and fails with what it saw once the timeout passes', () => {
    const down = hb(102_000, 5, [ok('pacemaker'), { component: 'haproxy', state: 'COMPONENT_DOWN', summary: 'reload failed' }]);
    expect(healthGate({ ...base, heartbeat: down, now: 105_000 })).toEqual({ verdict: 'wait', reason: 'unhealthy: haproxy COMPONENT_DOWN: reload failed' });
    expect(healthGate({ ...base, heartbeat: down, now: 110_000 })).toEqual({ verdict: 'fail', reason: 'health gate timed out after 10000 ms: unhealthy: haproxy COMPONENT_DOWN: reload failed' });
  });

  it('fails at once when the node reports another revision after applying (the agent undid it)', () => {
    expect(healthGate({ ...base, heartbeat: hb(101_500, 4), now: 101_600 })).toEqual({ verdict: 'fail', reason: 'node reports revision 4 after applying 5' });
  });

  it('does not pass a Hello record without component health', () => {
    expect(healthGate({ ...base, heartbeat: hb(101_500, 5, []), now: 101_600 }).verdict).toBe('wait');
  });

  it('fails a node that never sends a heartbeat after the apply', () => {
    expect(healthGate({ ...base, heartbeat: hb(99_000, 4), now: 110_001 }).verdict).toBe('fail');
  });

  it('treats UNKNOWN as not healthy, and counts each item of a summary as its own problem', () => {
    expect(healthProblems([ok('haproxy'), { component: 'vip', state: 'COMPONENT_UNKNOWN' }])).toEqual(['vip COMPONENT_UNKNOWN']);
    expect(healthProblems([{ component: 'haproxy', state: 'COMPONENT_DEGRADED', summary: 'backend galera DOWN; backend glance DOWN' }])).toEqual([
      'haproxy COMPONENT_DEGRADED: backend galera DOWN',
      'haproxy COMPONENT_DEGRADED: backend glance DOWN',
    ]);
  });

  it('does not hold against a node the problems it already had when its step started, only new ones', () => {
    const galeraDown = { component: 'haproxy', state: 'COMPONENT_DEGRADED', summary: 'backend galera DOWN' };
    const baseline = healthProblems([galeraDown]);
    expect(healthGate({ ...base, baseline, heartbeat: hb(101_500, 5, [galeraDown]), now: 101_600 })).toEqual({ verdict: 'pass' });
    const worse = { ...galeraDown, summary: 'backend galera DOWN; backend glance DOWN' };
    expect(healthGate({ ...base, baseline, heartbeat: hb(101_500, 5, [worse]), now: 101_600 })).toEqual({ verdict: 'wait', reason: 'unhealthy: haproxy COMPONENT_DEGRADED: backend glance DOWN' });
  });
});

describe('healthBaseline', () => {
  const degraded: ComponentReport[] = [{ component: 'haproxy', state: 'COMPONENT_DEGRADED', summary: 'backend galera DOWN' }];

  it("takes the node's problems from a heartbeat received after it settled from its last change", () => {
    expect(healthBaseline({ heartbeat: hb(52_000, 1, degraded), lastAppliedAt: 50_000, now: 52_100, timings })).toEqual(['haproxy COMPONENT_DEGRADED: backend galera DOWN']);
  });

  it('waits while the node is still settling, at most the health timeout', () => {
    expect(healthBaseline({ heartbeat: hb(50_500, 1), lastAppliedAt: 50_000, now: 50_600, timings })).toBe('wait');
    expect(healthBaseline({ heartbeat: hb(50_500, 1, degraded), lastAppliedAt: 50_000, now: 60_000, timings })).toEqual(['haproxy COMPONENT_DEGRADED: backend galera DOWN']);
  });

  it('is strict for a node never heard from', () => {
    expect(healthBaseline({ heartbeat: undefined, lastAppliedAt: 50_000, now: 50_600, timings })).toEqual([]);
  });

  it('is strict for a node joining a running cluster: what it lacked before its first revision is what the revision must bring', () => {
    const nothingRunning: ComponentReport[] = [{ component: 'galera', state: 'COMPONENT_DOWN', summary: 'mariadbd not running' }];
    expect(healthBaseline({ heartbeat: hb(52_000, 0, nothingRunning), lastAppliedAt: null, now: 52_100, timings, joining: true })).toEqual([]);
    expect(healthBaseline({ heartbeat: hb(52_000, 0, nothingRunning), lastAppliedAt: null, now: 52_100, timings })).toEqual(['galera COMPONENT_DOWN: mariadbd not running']);
  });
});

describe('stepAction', () => {
  const startedAt = new Date(0);
  const at = (ms: number) => new Date(ms);
  const cmd = (status: CommandStatus, finishedAt: Date | null = null) => ({ status, finishedAt, reason: status === CommandStatus.FAILED ? 'DRIVER_FAILED' : null, message: status === CommandStatus.FAILED ? 'haproxy -c: bind failed' : null });

  it('moves an applied step to verifying, and a failed command to a rollback with its reason', () => {
    expect(stepAction({ baseline: [], status: RolloutStepStatus.APPLYING, startedAt, command: cmd(CommandStatus.SUCCEEDED, at(5)) }, 5, at(10), timings)).toEqual({ kind: 'verify' });
    expect(stepAction({ baseline: [], status: RolloutStepStatus.APPLYING, startedAt, command: cmd(CommandStatus.FAILED, at(5)) }, 5, at(10), timings)).toEqual({
      kind: 'roll-back',
      reason: 'command FAILED DRIVER_FAILED: haproxy -c: bind failed',
    });
    for (const status of [CommandStatus.REFUSED, CommandStatus.EXPIRED]) {
      expect(stepAction({ baseline: [], status: RolloutStepStatus.APPLYING, startedAt, command: cmd(status) }, 5, at(10), timings).kind).toBe('roll-back');
    }
  });

  it('waits for a command in flight until the apply timeout, then rolls back', () => {
    expect(stepAction({ baseline: [], status: RolloutStepStatus.APPLYING, startedAt, command: cmd(CommandStatus.RUNNING) }, 5, at(59_999), timings)).toEqual({ kind: 'none' });
    expect(stepAction({ baseline: [], status: RolloutStepStatus.APPLYING, startedAt, command: cmd(CommandStatus.RUNNING) }, 5, at(60_000), timings)).toEqual({
      kind: 'roll-back',
      reason: 'apply timed out after 60000 ms (command RUNNING)',
    });
  });

  it('succeeds a verifying step whose node passes the health gate, measured from the command finishing', () => {
    const command = cmd(CommandStatus.SUCCEEDED, at(20_000));
    expect(stepAction({ baseline: [], status: RolloutStepStatus.VERIFYING, startedAt, command, heartbeat: hb(21_000, 5) }, 5, at(21_010), timings)).toEqual({ kind: 'succeed' });
    expect(stepAction({ baseline: [], status: RolloutStepStatus.VERIFYING, startedAt, command, heartbeat: hb(20_500, 5) }, 5, at(21_010), timings).kind).toBe('none');
  });

  it('ends a rollback by its command: ROLLED_BACK on success, FAILED when the rollback fails too', () => {
    expect(stepAction({ baseline: [], status: RolloutStepStatus.ROLLING_BACK, startedAt, rollbackCommand: cmd(CommandStatus.SUCCEEDED) }, 5, at(1), timings)).toEqual({ kind: 'rolled-back' });
    expect(stepAction({ baseline: [], status: RolloutStepStatus.ROLLING_BACK, startedAt, rollbackCommand: cmd(CommandStatus.FAILED) }, 5, at(1), timings)).toEqual({
      kind: 'rollback-failed',
      reason: 'rollback command FAILED DRIVER_FAILED: haproxy -c: bind failed',
    });
    expect(stepAction({ baseline: [], status: RolloutStepStatus.ROLLING_BACK, startedAt, rollbackCommand: cmd(CommandStatus.DELIVERED) }, 5, at(1), timings)).toEqual({ kind: 'none' });
  });
});

const step = (order: number, status: RolloutStepStatus, reason: string | null = null): StepSummary => ({ order, nodeName: `controller-${order + 1}`, status, reason });

describe('stepsToStart', () => {
  it('starts one node at a time by default, in order, only after the one before has finished', () => {
    const pending = [step(2, RolloutStepStatus.PENDING), step(0, RolloutStepStatus.PENDING), step(1, RolloutStepStatus.PENDING)];
    expect(stepsToStart(pending, 1, false).map((s) => s.order)).toEqual([0]);
    expect(stepsToStart([step(0, RolloutStepStatus.VERIFYING), step(1, RolloutStepStatus.PENDING)], 1, false)).toEqual([]);
    expect(stepsToStart([step(0, RolloutStepStatus.SUCCEEDED), step(1, RolloutStepStatus.PENDING), step(2, RolloutStepStatus.PENDING)], 1, false).map((s) => s.order)).toEqual([1]);
  });

  it('keeps up to maxUnavailable nodes in flight', () => {
    const steps = [step(0, RolloutStepStatus.APPLYING), step(1, RolloutStepStatus.PENDING), step(2, RolloutStepStatus.PENDING), step(3, RolloutStepStatus.PENDING)];
    expect(stepsToStart(steps, 3, false).map((s) => s.order)).toEqual([1, 2]);
    expect(stepsToStart(steps, 1, false)).toEqual([]);
  });

  it('starts nothing after a step failed or was rolled back, or while stopping', () => {
    expect(stepsToStart([step(0, RolloutStepStatus.ROLLED_BACK), step(1, RolloutStepStatus.PENDING)], 2, false)).toEqual([]);
    expect(stepsToStart([step(0, RolloutStepStatus.FAILED), step(1, RolloutStepStatus.PENDING)], 2, false)).toEqual([]);
    expect(stepsToStart([step(0, RolloutStepStatus.PENDING)], 1, true)).toEqual([]);
  });
});

describe('rolloutEnd', () => {
  const none = { aborted: false, supersededBy: null };

  it('goes on while a step is in flight or pending', () => {
    expect(rolloutEnd([step(0, RolloutStepStatus.SUCCEEDED), step(1, RolloutStepStatus.VERIFYING)], none)).toBeUndefined();
    expect(rolloutEnd([step(0, RolloutStepStatus.SUCCEEDED), step(1, RolloutStepStatus.PENDING)], none)).toBeUndefined();
    expect(rolloutEnd([step(0, RolloutStepStatus.ROLLED_BACK), step(1, RolloutStepStatus.ROLLING_BACK)], none)).toBeUndefined();
  });

  it('succeeds when every step succeeded or was skipped (an empty cluster too)', () => {
    expect(rolloutEnd([step(0, RolloutStepStatus.SUCCEEDED), step(1, RolloutStepStatus.SKIPPED)], none)).toEqual({ status: RolloutStatus.SUCCEEDED, reason: null });
    expect(rolloutEnd([], none)).toEqual({ status: RolloutStatus.SUCCEEDED, reason: null });
  });

  it("fails with the first stopped node's reason", () => {
    expect(rolloutEnd([step(0, RolloutStepStatus.SUCCEEDED), step(1, RolloutStepStatus.ROLLED_BACK, 'command FAILED'), step(2, RolloutStepStatus.PENDING)], none)).toEqual({
      status: RolloutStatus.FAILED,
      reason: 'controller-2: command FAILED',
    });
  });

  it('ends ROLLED_BACK when aborted and SUPERSEDED when a newer revision waits, once nothing is in flight', () => {
    expect(rolloutEnd([step(0, RolloutStepStatus.SKIPPED)], { aborted: true, supersededBy: null })?.status).toBe(RolloutStatus.ROLLED_BACK);
    expect(rolloutEnd([step(0, RolloutStepStatus.SUCCEEDED), step(1, RolloutStepStatus.SKIPPED)], { aborted: false, supersededBy: 7 })).toEqual({ status: RolloutStatus.SUPERSEDED, reason: 'superseded by revision 7' });
    expect(rolloutEnd([step(0, RolloutStepStatus.APPLYING)], { aborted: false, supersededBy: 7 })).toBeUndefined();
  });
});

describe('releasedNodes', () => {
  const steps = [
    { nodeId: 'a', status: RolloutStepStatus.SUCCEEDED },
    { nodeId: 'b', status: RolloutStepStatus.ROLLED_BACK },
    { nodeId: 'c', status: RolloutStepStatus.SKIPPED },
  ];

  it('releases every node once the rollout succeeded', () => {
    expect(releasedNodes({ status: RolloutStatus.SUCCEEDED }, steps)).toBe('all');
  });

  it('pins nodes of a running, failed or aborted rollout: only nodes whose step succeeded may be repaired', () => {
    for (const status of [RolloutStatus.RUNNING, RolloutStatus.FAILED, RolloutStatus.ROLLED_BACK, RolloutStatus.PENDING]) {
      expect(releasedNodes({ status }, steps)).toEqual(new Set(['a']));
    }
  });

  it('releases nobody before the revision has a rollout', () => {
    expect(releasedNodes(undefined, [])).toEqual(new Set());
  });
});

describe('releasePolicy', () => {
  const state = (nodeId: string, appliedRevision: number): NodeRevisionState => ({ nodeId, nodeName: nodeId, availability: 'ready', appliedRevision, hasLiveCommand: false, failedAttempts: 0, lastFailureAt: null });
  const eligible = [state('a', 1), state('b', 1), state('fresh', 0)];

  it('lets the reconciler send only to released nodes; a node joining a running cluster waits for its step', () => {
    expect(releasePolicy(new Set(['a']), false)(eligible, eligible).map((n) => n.nodeId)).toEqual(['a']);
    expect(releasePolicy(new Set(['a', 'fresh']), false)(eligible, eligible).map((n) => n.nodeId)).toEqual(['a', 'fresh']);
    expect(releasePolicy('all', false)(eligible, eligible).map((n) => n.nodeId)).toEqual(['a', 'b', 'fresh']);
  });

  it('releases every node at once during bring-up (no node has a revision yet), whatever the rollout', () => {
    const bringUp = [state('x', 0), state('y', 0), state('z', 0)];
    expect(releasePolicy(new Set(), false)(bringUp, bringUp).map((n) => n.nodeId)).toEqual(['x', 'y', 'z']);
    // A decommissioned node that once had a revision does not make a rebuilt cluster "running".
    const all = [...bringUp, { ...state('old', 3), availability: 'decommissioned' as const }];
    expect(releasePolicy(new Set(), false)(bringUp, all).map((n) => n.nodeId)).toEqual(['x', 'y', 'z']);
    // The first revision stays a bring-up after the first node applied it.
    expect(releasePolicy(new Set(), true)(eligible, eligible).map((n) => n.nodeId)).toEqual(['fresh']);
  });
});

describe('expectedWhileJoining and the gate of a scale-out', () => {
  const timings: RolloutTimings = { applyTimeoutMs: 60_000, healthGraceMs: 1_000, healthTimeoutMs: 10_000 };
  const base = { targetRevision: 5, appliedAt: 100_000, baseline: [] as string[], timings, now: 101_600 };
  // What controller-1 reports once it accepted controller-4 and before controller-4 joined.
  const waitingForFour: ComponentReport[] = [
    { component: 'pacemaker', state: 'COMPONENT_DEGRADED', summary: '3/4 nodes online, DC controller-1, quorate; controller-4 offline' },
    { component: 'galera', state: 'COMPONENT_DEGRADED', summary: 'cluster size 3 of 4' },
    { component: 'rabbitmq', state: 'COMPONENT_DEGRADED', summary: '3 of 4 nodes running; not running: rabbit@controller-4' },
    { component: 'haproxy', state: 'COMPONENT_DEGRADED', summary: 'backend keystone: controller-4 DOWN' },
  ];
  const hb = (components: ComponentReport[]): HeartbeatView => ({ at: 101_500, appliedRevision: 5, components });

  it('passes a member whose only new problems are the joining node missing', () => {
    expect(healthGate({ ...base, heartbeat: hb(waitingForFour), joiningNodes: ['controller-4'] })).toEqual({ verdict: 'pass' });
    expect(healthGate({ ...base, heartbeat: hb(waitingForFour) }).verdict).toBe('wait');
  });

  it('still holds anything else against it: another node missing, a count short by more than the joining nodes, a name that only starts the same', () => {
    expect(expectedWhileJoining('pacemaker COMPONENT_DEGRADED: controller-2 offline', ['controller-4'])).toBe(false);
    expect(expectedWhileJoining('galera COMPONENT_DEGRADED: cluster size 2 of 4', ['controller-4'])).toBe(false);
    expect(expectedWhileJoining('pacemaker COMPONENT_DEGRADED: controller-40 offline', ['controller-4'])).toBe(false);
    expect(expectedWhileJoining('galera COMPONENT_DEGRADED: cluster size 2 of 4', ['controller-4', 'controller-5'])).toBe(true);
    expect(expectedWhileJoining('haproxy COMPONENT_DEGRADED: backend keystone: controller-4 DOWN', [])).toBe(false);
    const worse = [...waitingForFour, { component: 'haproxy', state: 'COMPONENT_DEGRADED', summary: 'backend glance DOWN' }];
    expect(healthGate({ ...base, heartbeat: hb(worse), joiningNodes: ['controller-4'] })).toEqual({ verdict: 'wait', reason: 'unhealthy: haproxy COMPONENT_DEGRADED: backend glance DOWN' });
  });
});

describe('orderNodes and skipReason', () => {
  it('orders nodes by name, whatever order they were enrolled in, and joining nodes (no revision yet) last', () => {
    const n = (name: string, appliedRevision = 1) => ({ name, appliedRevision });
    expect(orderNodes([n('controller-3'), n('controller-1'), n('controller-2')]).map((x) => x.name)).toEqual(['controller-1', 'controller-2', 'controller-3']);
    expect(orderNodes([n('controller-0', 0), n('controller-3'), n('controller-1'), n('controller-2')]).map((x) => x.name)).toEqual(['controller-1', 'controller-2', 'controller-3', 'controller-0']);
  });

  it('skips an unreachable node and one already on the revision; a node without a revision only during bring-up', () => {
    expect(skipReason({ status: NodeStatus.UNREACHABLE, appliedRevision: 1 }, 2, false)).toMatch(/^node unreachable/);
    expect(skipReason({ status: NodeStatus.ONLINE, appliedRevision: 2 }, 2, false)).toBe('already at revision 2');
    expect(skipReason({ status: NodeStatus.SUSPECT, appliedRevision: 1 }, 2, false)).toBeUndefined();
    expect(skipReason({ status: NodeStatus.ONLINE, appliedRevision: 0 }, 1, true)).toMatch(/^node has no revision yet/);
    expect(skipReason({ status: NodeStatus.ONLINE, appliedRevision: 0 }, 2, false)).toBeUndefined();
    expect(isBringUp([{ appliedRevision: 0 }, { appliedRevision: null }])).toBe(true);
    expect(isBringUp([{ appliedRevision: 0 }, { appliedRevision: 1 }])).toBe(false);
  });
});
