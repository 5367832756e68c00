import { DEFAULT_RETRY_POLICY, planNodeUpdates, retryDelayMs, type NodeRevisionState, type SelectNodesToUpdate } from './node-selection';

const now = new Date('2026-01-01T12:00:00Z');

function node(name: string, overrides: Partial<NodeRevisionState> = {}): NodeRevisionState {
  return {
    nodeId: `id-${name}`,
    nodeName: name,
    availability: 'ready',
    appliedRevision: 1,
    hasLiveCommand: false,
    failedAttempts: 0,
    lastFailureAt: null,
    ...overrides,
  };
}

function plan(nodes: NodeRevisionState[], select?: SelectNodesToUpdate) {
  return planNodeUpdates({ targetRevision: 2, specNodeNames: ['c1', 'c2', 'c3'], nodes, now, retry: DEFAULT_RETRY_POLICY, select });
}

describe('planNodeUpdates', () => {
  it('sends the revision to every node of the spec that is behind, all at once', () => {
    const decisions = plan([node('c1'), node('c2', { appliedRevision: null }), node('c3')]);
    expect(decisions.map((d) => d.action)).toEqual(['issue', 'issue', 'issue']);
  });

  it('sends nothing to a node already at the revision', () => {
    expect(plan([node('c1', { appliedRevision: 2 })])[0]).toMatchObject({ action: 'skip', reason: 'UP_TO_DATE' });
  });

  it('skips decommissioned, not yet enrolled and unreachable nodes, and nodes the spec does not name', () => {
    const decisions = plan([
      node('c1', { availability: 'decommissioned' }),
      node('c2', { availability: 'not-enrolled' }),
      node('c3', { availability: 'unreachable' }),
      node('c9'),
    ]);
    expect(decisions.map((d) => (d.action === 'skip' ? d.reason : d.action))).toEqual(['DECOMMISSIONED', 'NOT_ENROLLED', 'UNREACHABLE', 'NOT_IN_SPEC']);
  });

  it('does not send a second command while one for the revision is in flight', () => {
    expect(plan([node('c1', { hasLiveCommand: true })])[0]).toMatchObject({ action: 'skip', reason: 'COMMAND_IN_FLIGHT' });
  });

  it('waits out the backoff after a failed attempt, then retries', () => {
    const failedJustNow = node('c1', { failedAttempts: 1, lastFailureAt: new Date(now.getTime() - 1_000) });
    expect(plan([failedJustNow])[0]).toMatchObject({
      action: 'skip',
      reason: 'BACKING_OFF',
      retryAt: new Date(now.getTime() - 1_000 + DEFAULT_RETRY_POLICY.backoffBaseMs),
    });
    const failedLongAgo = node('c1', { failedAttempts: 1, lastFailureAt: new Date(now.getTime() - DEFAULT_RETRY_POLICY.backoffBaseMs) });
    expect(plan([failedLongAgo])[0]).toMatchObject({ action: 'issue' });
  });

  it('gives up on a node after the maximum number of failed attempts for a revision', () => {
    const exhausted = node('c1', { failedAttempts: DEFAULT_RETRY_POLICY.maxAttempts, lastFailureAt: new Date(0) });
    expect(plan([exhausted])[0]).toMatchObject({ action: 'skip', reason: 'GAVE_UP' });
  });

  it('lets a rollout policy hold back eligible nodes', () => {
    const oneAtATime: SelectNodesToUpdate = (eligible, all) => (all.some((n) => n.hasLiveCommand) ? [] : eligible.slice(0, 1));
    expect(plan([node('c1'), node('c2'), node('c3')], oneAtATime).map((d) => d.action)).toEqual(['issue', 'skip', 'skip']);
    const decisions = plan([node('c1', { hasLiveCommand: true }), node('c2'), node('c3')], oneAtATime);
    expect(decisions.map((d) => (d.action === 'skip' ? d.reason : d.action))).toEqual(['COMMAND_IN_FLIGHT', 'HELD_BY_POLICY', 'HELD_BY_POLICY']);
  });
});

describe('retryDelayMs', () => {
  it('doubles per failure and stops at the cap', () => {
    const p = { maxAttempts: 10, backoffBaseMs: 1_000, backoffMaxMs: 5_000 };
    expect([0, 1, 2, 3, 4].map((n) => retryDelayMs(n, p))).toEqual([0, 1_000, 2_000, 4_000, 5_000]);
  });
});
