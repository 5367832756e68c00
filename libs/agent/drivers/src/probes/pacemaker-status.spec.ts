import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pacemakerHealthDetailSchema } from '@triad/protocol';
import { CrmMonError, pacemakerHealth, parseCrmMon } from './pacemaker-status';

/** Captured from a 3-node lab cluster (tools/lab) running Pacemaker 2.1.5. */
const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');

describe(parseCrmMon.name, () => {
  it('reads nodes, DC, quorum and where each resource runs from a healthy cluster', () => {
    const status = parseCrmMon(fixture('crm-mon-3-nodes-healthy.xml'));
    expect(status.dc).toBe('controller-3');
    expect(status.quorate).toBe(true);
    expect(status.nodes.map((n) => [n.name, n.online, n.isDc])).toEqual([
      ['controller-1', true, false],
      ['controller-2', true, false],
      ['controller-3', true, true],
    ]);
    expect(status.resources.find((r) => r.id === 'vip-keystone')).toMatchObject({ role: 'Started', active: true, managed: true, nodes: ['controller-1'] });
    const haproxy = status.resources.filter((r) => r.id === 'haproxy');
    expect(haproxy).toHaveLength(3);
    expect(haproxy.every((r) => r.parent === 'haproxy-clone' && r.agent === 'ocf:heartbeat:anything')).toBe(true);
    expect(haproxy.flatMap((r) => r.nodes).sort()).toEqual(['controller-1', 'controller-2', 'controller-3']);
    expect(status.failedActions).toEqual([]);
  });

  it('reads a failed monitor with its resource, exit status and fail count', () => {
    const status = parseCrmMon(fixture('crm-mon-failed-monitor.xml'));
    expect(status.failedActions).toEqual([
      expect.objectContaining({ resource: 'vip-keystone', operation: 'vip-keystone_monitor_10000', task: 'monitor', node: 'controller-1', exitCode: 7, exitStatus: 'not running', intervalMs: 10000, failCount: 1 }),
    ]);
  });

  it('throws crm_mon\'s own message when the cluster does not answer', () => {
    const xml = `<pacemaker-result api-version="2.25" request="crm_mon --output-as=xml -1">
  <status code="102" message="Not connected">
    <errors>
      <error>crm_mon: Connection to cluster failed: Connection refused</error>
    </errors>
  </status>
</pacemaker-result>`;
    expect(() => parseCrmMon(xml)).toThrow(CrmMonError);
    expect(() => parseCrmMon(xml)).toThrow(/Not connected: crm_mon: Connection to cluster failed/);
  });
});

describe(pacemakerHealth.name, () => {
  const health = (file: string, node: string) => pacemakerHealth(parseCrmMon(fixture(file)), node);

  it('is OK with every node online, a DC, quorum and nothing failed; the detail follows the protocol schema', () => {
    const h = health('crm-mon-3-nodes-healthy.xml', 'controller-1');
    expect(h).toMatchObject({ component: 'pacemaker', state: 'COMPONENT_OK', summary: '3/3 nodes online, DC controller-3, quorate' });
    const detail = pacemakerHealthDetailSchema.parse(JSON.parse(h.detailJson ?? ''));
    expect(detail.node).toBe('controller-1');
    expect(detail.heldVips).toEqual(['vip-keystone', 'vip-galera']);
    expect(detail.nodes).toHaveLength(3);
  });

  it('is DEGRADED with a failed action, naming it', () => {
    const h = health('crm-mon-failed-monitor.xml', 'controller-1');
    expect(h.state).toBe('COMPONENT_DEGRADED');
    expect(h.summary).toContain('failed actions: vip-keystone_monitor_10000 on controller-1 (not running)');
  });

  it('is DEGRADED when a peer is offline', () => {
    const h = health('crm-mon-node-offline.xml', 'controller-1');
    expect(h.state).toBe('COMPONENT_DEGRADED');
    expect(h.summary).toMatch(/^2\/3 nodes online, DC controller-1, quorate; controller-3 offline/);
  });

  it('is DOWN on the node cut off from the others: its partition has no quorum', () => {
    const h = health('crm-mon-isolated-no-quorum.xml', 'controller-3');
    expect(h.state).toBe('COMPONENT_DOWN');
    expect(h.summary).toBe("controller-3's partition has no quorum");
  });

  it('is DEGRADED in maintenance mode, with a node in standby, and says so', () => {
    const h = health('crm-mon-maintenance-standby-unmanaged.xml', 'controller-1');
    expect(h.state).toBe('COMPONENT_DEGRADED');
    expect(h.summary).toContain('controller-2 standby');
    expect(h.summary).toContain('maintenance-mode on');
  });

  it('is DOWN for a node the cluster does not know', () => {
    expect(health('crm-mon-3-nodes-healthy.xml', 'controller-9')).toMatchObject({ state: 'COMPONENT_DOWN', summary: 'controller-9 is not a node of this cluster' });
  });
});
