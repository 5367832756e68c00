import { clustercheckVerdict } from './clustercheck.server';

describe(clustercheckVerdict.name, () => {
  it('answers 200 only for a Synced node', () => {
    expect(clustercheckVerdict(4, false)).toEqual({ status: 200, body: 'Galera cluster node is synced.\r\n' });
    for (const state of [1, 2, 3, undefined]) expect(clustercheckVerdict(state, false).status).toBe(503);
  });

  it('lets a donor serve only when available_when_donor is set', () => {
    expect(clustercheckVerdict(2, true).status).toBe(200);
    expect(clustercheckVerdict(1, true).status).toBe(503);
  });
});
