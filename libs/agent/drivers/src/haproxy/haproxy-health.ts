import type { ComponentHealth, HaproxyHealthDetail } from '@triad/protocol';
import type { StatRow } from './haproxy-cli';

/** Servers in these states are not failures: an operator drained them, or they are not checked. */
const SERVER_NOT_FAILED = /^(UP|no check|MAINT|DRAIN|NOLB)/;

/**
 * Pure: heartbeat health of a running haproxy from its `show stat`. OK when every frontend is
 * OPEN and no backend or checked server is DOWN; DEGRADED otherwise, saying what.
 */
export function haproxyHealth(rows: StatRow[]): ComponentHealth {
  const detail: HaproxyHealthDetail = { frontends: [], backends: [] };
  const backends = new Map<string, HaproxyHealthDetail['backends'][number]>();
  for (const r of rows) {
    if (r.name === 'FRONTEND') detail.frontends.push({ name: r.proxy, status: r.status });
    else {
      let be = backends.get(r.proxy);
      if (!be) backends.set(r.proxy, (be = { name: r.proxy, status: '', servers: [] }));
      if (r.name === 'BACKEND') be.status = r.status;
      else be.servers.push({ name: r.name, status: r.status, checkStatus: r.checkStatus });
    }
  }
  detail.backends = [...backends.values()].filter((b) => b.status !== '');

  const problems: string[] = [];
  for (const f of detail.frontends) if (f.status !== 'OPEN') problems.push(`frontend ${f.name} ${f.status}`);
  for (const b of detail.backends) {
    if (b.status === 'DOWN') problems.push(`backend ${b.name} DOWN`);
    const down = b.servers.filter((s) => !SERVER_NOT_FAILED.test(s.status));
    if (down.length && b.status !== 'DOWN') problems.push(`backend ${b.name}: ${down.map((s) => `${s.name} ${s.status}`).join(', ')}`);
  }
  return {
    component: 'haproxy',
    state: problems.length ? 'COMPONENT_DEGRADED' : 'COMPONENT_OK',
    summary: problems.length
      ? problems.join('; ')
      : `${detail.frontends.length} frontends open, ${detail.backends.length} backends up`,
    detailJson: JSON.stringify(detail),
  };
}
