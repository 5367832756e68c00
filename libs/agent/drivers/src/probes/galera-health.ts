import type { ComponentHealth, GaleraHealthDetail } from '@triad/protocol';
import type { Grastate } from '../galera/grastate';

/** wsrep_local_state values (Galera 4). */
export const WSREP_SYNCED = 4;
export const WSREP_DONOR = 2;

/**
 * Pure: heartbeat health of a Galera node. `status` is `SHOW GLOBAL STATUS LIKE 'wsrep_%'`
 * (undefined when mariadbd does not answer), `grastate` what grastate.dat says.
 * OK: Synced, Primary, ready, full size. DEGRADED: running but not all of that (joining, donor,
 * a smaller cluster). DOWN: not running, or running outside a Primary component.
 */
export function galeraHealth(input: { status?: Record<string, string>; grastate?: Grastate; expectedClusterSize?: number }): ComponentHealth {
  const { status, grastate, expectedClusterSize } = input;
  const num = (k: string): number | undefined => (status?.[k] !== undefined && /^-?\d+$/.test(status[k]) ? Number(status[k]) : undefined);
  const detail: GaleraHealthDetail = {
    running: status !== undefined,
    localState: num('wsrep_local_state'),
    localStateComment: status?.wsrep_local_state_comment,
    clusterStatus: status?.wsrep_cluster_status,
    clusterSize: num('wsrep_cluster_size'),
    expectedClusterSize,
    clusterStateUuid: status?.wsrep_cluster_state_uuid,
    lastCommitted: num('wsrep_last_committed'),
    ready: status ? status.wsrep_ready === 'ON' : undefined,
    connected: status ? status.wsrep_connected === 'ON' : undefined,
    grastate: grastate && { uuid: grastate.uuid, seqno: grastate.seqno, safeToBootstrap: grastate.safeToBootstrap },
  };
  const health = (state: ComponentHealth['state'], summary: string): ComponentHealth => ({ component: 'galera', state, summary, detailJson: JSON.stringify(detail) });

  if (!status) {
    const where = grastate ? ` (grastate seqno ${grastate.seqno}, safe_to_bootstrap ${grastate.safeToBootstrap ? 1 : 0})` : '';
    return health('COMPONENT_DOWN', `mariadbd is not running${where}`);
  }
  if (detail.clusterStatus !== 'Primary') return health('COMPONENT_DOWN', `not in a primary component (wsrep_cluster_status ${detail.clusterStatus ?? 'unknown'})`);
  const problems: string[] = [];
  if (detail.localState !== WSREP_SYNCED) problems.push(`${detail.localStateComment ?? 'state unknown'} (wsrep_local_state ${detail.localState ?? '?'})`);
  if (!detail.ready) problems.push('wsrep_ready OFF');
  if (expectedClusterSize !== undefined && detail.clusterSize !== expectedClusterSize) problems.push(`cluster size ${detail.clusterSize ?? '?'} of ${expectedClusterSize}`);
  if (problems.length) return health('COMPONENT_DEGRADED', problems.join('; '));
  return health('COMPONENT_OK', `Synced, Primary, cluster size ${detail.clusterSize}, last committed ${detail.lastCommitted ?? '?'}`);
}
