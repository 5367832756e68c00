import { galeraHealth } from './galera-health';

const synced = { wsrep_local_state: '4', wsrep_local_state_comment: 'Synced', wsrep_cluster_status: 'Primary', wsrep_cluster_size: '3', wsrep_ready: 'ON', wsrep_connected: 'ON', wsrep_last_committed: '42' };

describe(galeraHealth.name, () => {
  it('is OK for a Synced node in a full Primary cluster', () => {
    expect(galeraHealth({ status: synced, expectedClusterSize: 3 })).toMatchObject({ state: 'COMPONENT_OK', summary: 'Synced, Primary, cluster size 3, last committed 42' });
  });

  it('is DEGRADED for a member missing or a donor', () => {
    expect(galeraHealth({ status: { ...synced, wsrep_cluster_size: '2' }, expectedClusterSize: 3 })).toMatchObject({ state: 'COMPONENT_DEGRADED', summary: 'cluster size 2 of 3' });
    expect(galeraHealth({ status: { ...synced, wsrep_local_state: '2', wsrep_local_state_comment: 'Donor/Desynced' } }).summary).toBe('Donor/Desynced (wsrep_local_state 2)');
  });

  it('is DOWN outside a Primary component, and when stopped says what grastate.dat holds', () => {
    expect(galeraHealth({ status: { ...synced, wsrep_cluster_status: 'non-Primary', wsrep_ready: 'OFF' } }).state).toBe('COMPONENT_DOWN');
    const down = galeraHealth({ grastate: { uuid: 'u', seqno: 17, safeToBootstrap: true } });
    expect(down).toMatchObject({ state: 'COMPONENT_DOWN', summary: 'mariadbd is not running (grastate seqno 17, safe_to_bootstrap 1)' });
    expect(JSON.parse(down.detailJson ?? '')).toMatchObject({ running: false, grastate: { seqno: 17, safeToBootstrap: true } });
  });
});
