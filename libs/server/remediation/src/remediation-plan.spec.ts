import {
  DEFAULT_LIMITS,
  checkQuorum,
  electBootstrapNode,
  isGiveBack,
  massFailureFreeze,
  nextAttemptAt,
  planRemediation,
  quorumHeld,
  quorumView,
  stepsAfterElection,
  stopsWithoutQuorum,
  waitSatisfied,
  type GaleraPosition,
  type PlanDecision,
  type PlannerInput,
  type PlannedStep,
  type PlannerNode,
} from './remediation-plan';
import type { FindingCode, FindingView } from './upstream';

const now = new Date('2026-11-24T02:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const nodes3 = (over: Partial<Record<string, PlannerNode['status']>> = {}): PlannerNode[] =>
  ['controller-1', 'controller-2', 'controller-3'].map((name) => ({ name, status: over[name] ?? 'ONLINE' }));

function finding(code: FindingCode, nodeName: string | null, over: Partial<FindingView> = {}): FindingView {
  return { key: `${code}:${nodeName ?? '*'}:${over.subject ?? ''}`, code, severity: 'CRITICAL', nodeName, subject: null, owner: 'TRIAD', detail: {}, firstSeenAt: ago(120_000), ...over };
}

function input(over: Partial<PlannerInput> = {}): PlannerInput {
  return {
    now,
    policy: 'AUTOMATIC',
    maintenance: false,
    freeze: null,
    hold: null,
    activeRun: null,
    findings: [],
    nodes: nodes3(),
    expectedMembers: 3,
    attempts: [],
    limits: DEFAULT_LIMITS,
    galeraResource: 'galera-clone',
    ...over,
  };
}

const run = (d: PlanDecision) => {
  if (d.kind !== 'run') throw new Error(`expected a run, got ${d.kind}: ${d.reason}`);
  return d;
};
const actions = (d: PlanDecision) => run(d).steps.map((s) => `${s.action}@${s.nodeName ?? '*'}`);

describe('planRemediation', () => {
  describe('playbooks', () => {
    it('restarts the cluster stack on the node, then waits for it to rejoin and its resources to start', () => {
      const d = planRemediation(input({ findings: [finding('CLUSTER_STACK_DOWN', 'controller-2'), finding('QUORUM_LOST', null, { owner: 'NONE' })] }));
      expect(actions(d)).toEqual(['cluster_stack.start@controller-2', 'wait.node_rejoined@controller-2', 'wait.resources_started@controller-2']);
      expect(run(d)).toMatchObject({ playbook: 'cluster_stack.recover', findingKeys: ['CLUSTER_STACK_DOWN:controller-2:'], awaitingApproval: false });
    });

    it('cleans up a failed resource and waits for its finding to clear', () => {
      const f = finding('RESOURCE_FAILED', 'controller-1', { subject: 'galera', detail: { resource: 'galera', failCount: 1000000 } });
      const d = planRemediation(input({ findings: [f] }));
      expect(run(d).steps).toEqual([
        { nodeName: 'controller-1', action: 'pacemaker.cleanup', args: { resource: 'galera' } },
        { nodeName: null, action: 'wait.resource_recovered', args: { resource: 'galera', findingKey: f.key } },
      ]);
    });

    it('rejoins a Galera member with Pacemaker unmanaging galera first and managing it again after', () => {
      const d = planRemediation(input({ findings: [finding('GALERA_DOWN', 'controller-3')] }));
      expect(actions(d)).toEqual(['pacemaker.set_managed@controller-3', 'galera.join@controller-3', 'wait.galera_synced@controller-3', 'pacemaker.set_managed@controller-3']);
      expect(run(d).steps[0]?.args).toEqual({ resource: 'galera-clone', managed: false });
      expect(run(d).steps[3]?.args).toEqual({ resource: 'galera-clone', managed: true });
      expect(isGiveBack(run(d).steps[3] as never)).toBe(true);
    });

    it('rejoins a Galera member directly when Galera runs outside Pacemaker', () => {
      const d = planRemediation(input({ galeraResource: null, findings: [finding('GALERA_NOT_SYNCED', 'controller-3')] }));
      expect(actions(d)).toEqual(['galera.join@controller-3', 'wait.galera_synced@controller-3']);
    });

    it('recovers a full Galera outage by asking every reachable member for its position, then electing', () => {
      const d = planRemediation(input({ findings: [finding('GALERA_NO_PRIMARY', null), finding('GALERA_DOWN', 'controller-1')] }));
      expect(run(d).playbook).toBe('galera.recover_outage');
      expect(actions(d)).toEqual([
        'pacemaker.set_managed@controller-1',
        'galera.report_position@controller-1',
        'galera.report_position@controller-2',
        'galera.report_position@controller-3',
        'galera.elect@*',
        'pacemaker.set_managed@controller-1',
      ]);
      expect(run(d).steps.at(-2)?.args).toEqual({ members: ['controller-1', 'controller-2', 'controller-3'] });
    });

    it('leaves a full outage alone while a cluster stack is still down (Pacemaker mode): the stack first, then the galera agent', () => {
      const backingOff = [{ findingKey: 'CLUSTER_STACK_DOWN:controller-2:', count: 1, windowStartedAt: ago(10_000), nextAttemptAt: new Date(now.getTime() + 20_000), escalatedAt: null }];
      const findings = [finding('GALERA_NO_PRIMARY', null), finding('CLUSTER_STACK_DOWN', 'controller-2')];
      const d = planRemediation(input({ findings, attempts: backingOff }));
      expect(d).toMatchObject({ kind: 'none' });
      expect(d.reason).toContain('the cluster stack is not running everywhere yet');
      // Galera outside Pacemaker: nobody else will recover it.
      expect(run(planRemediation(input({ galeraResource: null, findings, attempts: backingOff }))).playbook).toBe('galera.recover_outage');
    });

    it('restarts a RabbitMQ node that is down and rejoins one in a minority partition', () => {
      expect(actions(planRemediation(input({ findings: [finding('RABBITMQ_DOWN', 'controller-2')] })))).toEqual(['rabbitmq.restart@controller-2', 'wait.rabbitmq_running@controller-2']);
      expect(actions(planRemediation(input({ findings: [finding('RABBITMQ_PARTITION', 'controller-3')] })))).toEqual(['rabbitmq.rejoin@controller-3', 'wait.rabbitmq_running@controller-3']);
    });

    it('with RabbitMQ in Pacemaker: a node down is cleaned up there (Pacemaker restarts it); a partition is rejoined with the resource unmanaged', () => {
      const pcmk = { rabbitmqResource: 'rabbitmq-clone' };
      const down = planRemediation(input({ ...pcmk, findings: [finding('RABBITMQ_DOWN', 'controller-2')] }));
      expect(actions(down)).toEqual(['pacemaker.cleanup@controller-2', 'wait.rabbitmq_running@controller-2']);
      expect(run(down).steps[0]?.args).toEqual({ resource: 'rabbitmq-clone' });
      expect(actions(planRemediation(input({ ...pcmk, findings: [finding('RABBITMQ_PARTITION', 'controller-3')] })))).toEqual([
        'pacemaker.set_managed@controller-3',
        'rabbitmq.rejoin@controller-3',
        'wait.rabbitmq_running@controller-3',
        'pacemaker.set_managed@controller-3',
      ]);
    });

    it('re-applies the desired revision to a drifted node', () => {
      expect(actions(planRemediation(input({ findings: [finding('CONFIG_DRIFT', 'controller-1', { severity: 'WARNING' })] })))).toEqual([
        'apply_revision@controller-1',
        'wait.revision_applied@controller-1',
      ]);
    });

    it('never re-applies to a node a failed rollout pinned to its revision; another drifted node still gets it', () => {
      const pinned = { nodes: ['controller-2', 'controller-3'], reason: 'the rollout of revision 3 did not release it' };
      const none = planRemediation(input({ pinned, findings: [finding('CONFIG_DRIFT', 'controller-2', { severity: 'WARNING' })] }));
      expect(none).toEqual({ kind: 'none', reason: expect.stringContaining('controller-2 is pinned to its revision: the rollout of revision 3 did not release it') });
      const d = planRemediation(input({ pinned, findings: [finding('CONFIG_DRIFT', 'controller-2', { severity: 'WARNING' }), finding('CONFIG_DRIFT', 'controller-1', { severity: 'WARNING', firstSeenAt: ago(1_000) })] }));
      expect([run(d).nodeName, actions(d)]).toEqual(['controller-1', ['apply_revision@controller-1', 'wait.revision_applied@controller-1']]);
    });

    it('repairs the cluster stack before Galera, whatever came first', () => {
      const d = planRemediation(input({ findings: [finding('GALERA_DOWN', 'controller-1', { firstSeenAt: ago(600_000) }), finding('CLUSTER_STACK_DOWN', 'controller-2')] }));
      expect(run(d).playbook).toBe('cluster_stack.recover');
    });

    it('does not rejoin a member while Galera has no Primary component', () => {
      const d = planRemediation(input({ findings: [finding('GALERA_NO_PRIMARY', null, { owner: 'PACEMAKER' }), finding('GALERA_DOWN', 'controller-1')] }));
      expect(d).toMatchObject({ kind: 'none' });
      expect(d.reason).toContain('no Primary');
    });
  });

  describe('ownership', () => {
    it('leaves findings Pacemaker, an operator or nobody owns alone', () => {
      for (const owner of ['PACEMAKER', 'OPERATOR', 'NONE'] as const) {
        expect(planRemediation(input({ findings: [finding('CLUSTER_STACK_DOWN', 'controller-2', { owner })] }))).toMatchObject({ kind: 'none', reason: 'no finding Triad repairs' });
      }
    });

    it('does not act on findings it has no playbook for', () => {
      expect(planRemediation(input({ findings: [finding('VIP_HELD_TWICE', null), finding('MAINTENANCE_LEFT_ON', 'controller-1')] })).kind).toBe('none');
    });
  });

  describe('safety rules', () => {
    const broken = [finding('CLUSTER_STACK_DOWN', 'controller-2')];

    it('maintenance mode suppresses every run', () => {
      expect(planRemediation(input({ maintenance: true, findings: broken }))).toEqual({ kind: 'none', reason: 'maintenance mode is on: no remediation' });
    });

    it('policy OFF plans nothing', () => {
      expect(planRemediation(input({ policy: 'OFF', findings: broken })).kind).toBe('none');
    });

    it('policy APPROVAL plans a run that waits for approval', () => {
      expect(run(planRemediation(input({ policy: 'APPROVAL', findings: broken }))).awaitingApproval).toBe(true);
    });

    it('a frozen tenant gets no run, and the reason says why', () => {
      const d = planRemediation(input({ freeze: '3 of 3 nodes unreachable', findings: broken }));
      expect(d).toEqual({ kind: 'none', reason: 'frozen: 3 of 3 nodes unreachable' });
    });

    it('holds off while the cluster is still being built or a rollout changes it', () => {
      const reason = 'the cluster has not been HEALTHY since its bring-up';
      expect(planRemediation(input({ hold: reason, findings: broken }))).toEqual({ kind: 'none', reason });
    });

    it('one run per cluster at a time', () => {
      expect(planRemediation(input({ activeRun: { id: 'r1', status: 'RUNNING' }, findings: broken })).reason).toContain('one run per cluster at a time');
    });

    it('never remediates a node that is only UNREACHABLE or SUSPECT', () => {
      for (const status of ['UNREACHABLE', 'SUSPECT'] as const) {
        const d = planRemediation(input({ nodes: nodes3({ 'controller-2': status }), findings: broken }));
        expect(d.kind).toBe('none');
        expect(d.reason).toContain(`controller-2 is ${status}`);
      }
    });

    it('backs off between attempts of a finding', () => {
      const key = broken[0]?.key as string;
      const attempts = [{ findingKey: key, count: 1, windowStartedAt: ago(60_000), nextAttemptAt: new Date(now.getTime() + 1_000), escalatedAt: null }];
      expect(planRemediation(input({ findings: broken, attempts })).reason).toContain('backing off until');
      expect(planRemediation(input({ findings: broken, attempts: [{ ...attempts[0], nextAttemptAt: ago(1) } as never] })).kind).toBe('run');
    });

    it('backoff doubles per attempt up to the maximum', () => {
      expect(nextAttemptAt(1, now, DEFAULT_LIMITS).getTime() - now.getTime()).toBe(30_000);
      expect(nextAttemptAt(3, now, DEFAULT_LIMITS).getTime() - now.getTime()).toBe(120_000);
      expect(nextAttemptAt(10, now, DEFAULT_LIMITS).getTime() - now.getTime()).toBe(600_000);
    });

    it('escalates once the attempts of the window are used up, then waits for an operator', () => {
      const key = broken[0]?.key as string;
      const used = { findingKey: key, count: 3, windowStartedAt: ago(60_000), nextAttemptAt: ago(1), escalatedAt: null };
      expect(planRemediation(input({ findings: broken, attempts: [used] }))).toMatchObject({ kind: 'escalate', findingKeys: [key], playbook: 'cluster_stack.recover' });
      expect(planRemediation(input({ findings: broken, attempts: [{ ...used, escalatedAt: ago(10) }] })).reason).toContain('waiting for an operator');
      // A new window starts afresh.
      expect(planRemediation(input({ findings: broken, attempts: [{ ...used, windowStartedAt: ago(DEFAULT_LIMITS.attemptWindowMs) }] })).kind).toBe('run');
    });

    it('bounds cleanups per resource and window by their own limit', () => {
      const f = finding('RESOURCE_FAILED', 'controller-1', { detail: { resource: 'rabbitmq' } });
      const a = (count: number) => [{ findingKey: f.key, count, windowStartedAt: ago(60_000), nextAttemptAt: null, escalatedAt: null }];
      const limits = { ...DEFAULT_LIMITS, cleanupMaxPerWindow: 2, maxAttempts: 5 };
      expect(planRemediation(input({ findings: [f], attempts: a(1), limits })).kind).toBe('run');
      expect(planRemediation(input({ findings: [f], attempts: a(2), limits })).kind).toBe('escalate');
    });

    it('does not start a step that needs quorum while the cluster has lost it', () => {
      const d = planRemediation(input({ nodes: nodes3(), findings: [finding('QUORUM_LOST', null, { owner: 'NONE' }), finding('RABBITMQ_DOWN', 'controller-2')] }));
      expect(d.kind).toBe('none');
      expect(d.reason).toContain('no quorum');
    });
  });
});

describe('stopsWithoutQuorum', () => {
  it('a run stops on a quorum loss after a step that needs quorum, not after starting a stack or waiting (the loss happened beside them)', () => {
    expect(['cluster_stack.start', 'wait.node_rejoined', 'wait.resources_started', 'galera.report_position'].filter((a) => stopsWithoutQuorum({ action: a as PlannedStep['action'] }))).toEqual([]);
    expect(['cluster_stack.restart', 'galera.join', 'galera.bootstrap', 'pacemaker.cleanup', 'rabbitmq.restart', 'apply_revision'].every((a) => stopsWithoutQuorum({ action: a as PlannedStep['action'] }))).toBe(true);
  });
});

describe('checkQuorum', () => {
  const view = (findings: FindingView[], over: Partial<Record<string, PlannerNode['status']>> = {}) => quorumView(nodes3(over), findings, 3);

  it('refuses a step that would take the cluster below a majority', () => {
    const v = view([finding('RABBITMQ_DOWN', 'controller-1')]);
    const r = checkQuorum(v, { nodeName: 'controller-2', action: 'rabbitmq.restart', args: {} });
    expect(r).toEqual({ ok: false, reason: 'rabbitmq.restart on controller-2 would leave 1 of 3 rabbitmq members, below the majority of 2' });
  });

  it('a node whose own partition has no quorum (a stack just restarted, not merged yet) is a minority, not a cluster without quorum', () => {
    const v = view([finding('QUORUM_LOST', 'controller-2', { owner: 'OPERATOR' })]);
    expect(quorumHeld(v)).toBe(true);
    expect(v.members.pacemaker).toEqual(['controller-1', 'controller-3']);
    expect(checkQuorum(v, { nodeName: 'controller-2', action: 'wait.resources_started', args: {} })).toEqual({ ok: true });
    // Two of three in minority partitions: the cluster has no quorate majority.
    expect(quorumHeld(view([finding('QUORUM_LOST', 'controller-2'), finding('QUORUM_LOST', 'controller-3')]))).toBe(false);
    expect(quorumHeld(view([finding('QUORUM_LOST', null)]))).toBe(false);
  });

  it('allows a disruptive step when a majority stays', () => {
    expect(checkQuorum(view([]), { nodeName: 'controller-2', action: 'rabbitmq.restart', args: {} })).toEqual({ ok: true });
  });

  it('restarting a node that is not a member costs no quorum', () => {
    expect(checkQuorum(view([finding('GALERA_DOWN', 'controller-1'), finding('GALERA_DOWN', 'controller-2')]), { nodeName: 'controller-1', action: 'galera.join', args: {} })).toEqual({ ok: true });
  });

  it('without quorum only the cluster stack may be started', () => {
    const v = view([finding('CLUSTER_STACK_DOWN', 'controller-1'), finding('CLUSTER_STACK_DOWN', 'controller-2')]);
    expect(checkQuorum(v, { nodeName: 'controller-1', action: 'cluster_stack.start', args: {} })).toEqual({ ok: true });
    expect(checkQuorum(v, { nodeName: 'controller-3', action: 'pacemaker.cleanup', args: { resource: 'x' } }).ok).toBe(false);
  });

  it('an unreachable node does not count as a member', () => {
    const v = view([], { 'controller-1': 'UNREACHABLE' });
    expect(v.members.pacemaker).toEqual(['controller-2', 'controller-3']);
    expect(checkQuorum(v, { nodeName: 'controller-2', action: 'cluster_stack.restart', args: {} }).ok).toBe(false);
  });
});

describe('massFailureFreeze', () => {
  const statuses = (bad: number, total: number) => Array.from({ length: total }, (_, i) => (i < bad ? 'UNREACHABLE' : 'ONLINE') as PlannerNode['status']);

  it('freezes a tenant when at least 55% and at least 3 of its nodes look bad', () => {
    const d = massFailureFreeze([
      { tenantId: 'a', statuses: statuses(3, 5) },
      { tenantId: 'b', statuses: statuses(2, 5) },
      { tenantId: 'c', statuses: statuses(2, 2) },
      { tenantId: 'd', statuses: [] },
    ]);
    expect([...d.tenants.keys()]).toEqual(['a']);
    expect(d.tenants.get('a')).toContain('3 of 5 nodes');
    expect(d.global).toBeNull();
  });

  it('counts SUSPECT as bad, and nodes reporting failures as fine', () => {
    expect(massFailureFreeze([{ tenantId: 'a', statuses: ['SUSPECT', 'SUSPECT', 'UNREACHABLE'] }, { tenantId: 'b', statuses: ['ONLINE'] }]).tenants.has('a')).toBe(true);
  });

  it('freezes everything when every tenant looks bad', () => {
    const d = massFailureFreeze([
      { tenantId: 'a', statuses: statuses(3, 3) },
      { tenantId: 'b', statuses: statuses(4, 5) },
    ]);
    expect(d.global).toContain('every tenant (2)');
  });
});

describe('electBootstrapNode', () => {
  const members = ['controller-1', 'controller-2', 'controller-3'];
  const pos = (seqno: number, safeToBootstrap = false): GaleraPosition => ({ uuid: 'u', seqno, safeToBootstrap, running: false });

  it('a member with safe_to_bootstrap: 1 wins without force, even if others are missing', () => {
    const e = electBootstrapNode(members, new Map([['controller-2', pos(10, true)], ['controller-1', pos(12)]]), false);
    expect(e).toMatchObject({ kind: 'winner', node: 'controller-2', force: false });
  });

  it('with every member reported, the highest seqno wins', () => {
    const e = electBootstrapNode(members, new Map([['controller-1', pos(10)], ['controller-2', pos(15)], ['controller-3', pos(12)]]), false);
    expect(e).toMatchObject({ kind: 'winner', node: 'controller-2', force: true });
  });

  it('breaks a seqno tie by name', () => {
    expect(electBootstrapNode(members, new Map([['controller-3', pos(7)], ['controller-1', pos(7)], ['controller-2', pos(3)]]), false)).toMatchObject({ node: 'controller-1' });
  });

  it('never bootstraps on partial data without an operator', () => {
    const e = electBootstrapNode(members, new Map([['controller-1', pos(10)], ['controller-2', pos(15)]]), false);
    expect(e).toMatchObject({ kind: 'needs-approval', candidate: 'controller-2', missing: ['controller-3'] });
  });

  it('a seqno of -1 (unknown) counts as not reported', () => {
    expect(electBootstrapNode(members, new Map([['controller-1', pos(10)], ['controller-2', pos(15)], ['controller-3', pos(-1)]]), false)).toMatchObject({ kind: 'needs-approval', missing: ['controller-3'] });
  });

  it('bootstraps the most advanced reported member once an operator approved', () => {
    expect(electBootstrapNode(members, new Map([['controller-1', pos(10)], ['controller-2', pos(15)]]), true)).toMatchObject({ kind: 'winner', node: 'controller-2', force: true });
  });

  it('does nothing when a member already runs', () => {
    expect(electBootstrapNode(members, new Map([['controller-1', { ...pos(10), running: true }]]), false).kind).toBe('not-needed');
  });

  it('after the election: bootstrap, then the others one at a time', () => {
    expect(stepsAfterElection('controller-2', true, members).map((s) => `${s.action}@${s.nodeName}`)).toEqual([
      'galera.bootstrap@controller-2',
      'wait.galera_synced@controller-2',
      'galera.join@controller-1',
      'wait.galera_synced@controller-1',
      'galera.join@controller-3',
      'wait.galera_synced@controller-3',
    ]);
  });
});

describe('waitSatisfied', () => {
  const online = { status: 'ONLINE' as const, appliedRevision: 4 };

  it('a node has rejoined when it is ONLINE and its stack findings are gone', () => {
    const step = { nodeName: 'controller-2', action: 'wait.node_rejoined' as const, args: {} };
    expect(waitSatisfied(step, [finding('CLUSTER_STACK_DOWN', 'controller-2')], online, 4)).toBe(false);
    expect(waitSatisfied(step, [finding('CLUSTER_STACK_DOWN', 'controller-1')], online, 4)).toBe(true);
    expect(waitSatisfied(step, [], { ...online, status: 'SUSPECT' }, 4)).toBe(false);
  });

  it("resources have started once none is stopped on the node; failed-action history is the cleanup playbook's", () => {
    const step = { nodeName: 'controller-2', action: 'wait.resources_started' as const, args: {} };
    expect(waitSatisfied(step, [finding('RESOURCE_STOPPED', 'controller-2', { subject: 'galera' })], online, 4)).toBe(false);
    expect(waitSatisfied(step, [finding('RESOURCE_FAILED', 'controller-2', { subject: 'galera', owner: 'PACEMAKER' })], online, 4)).toBe(true);
  });

  it('a revision is applied when the node reports the current one', () => {
    const step = { nodeName: 'controller-1', action: 'wait.revision_applied' as const, args: {} };
    expect(waitSatisfied(step, [], { ...online, appliedRevision: 3 }, 4)).toBe(false);
    expect(waitSatisfied(step, [], online, 4)).toBe(true);
  });
});
