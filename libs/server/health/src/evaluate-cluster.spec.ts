import type { GaleraHealthDetail, PacemakerHealthDetail, RabbitmqHealthDetail } from '@triad/protocol';
import { validateClusterSpec, type ClusterSpec } from '@triad/spec';
import { reportsFromHeartbeat, reportsFromSnapshot, type ComponentReport, type HaproxyHealthDetail } from './component-report';
import { evaluateCluster, type ClusterHealthInput, type NodeHealthInput } from './evaluate-cluster';
import type { FindingDraft } from './finding';

const NOW = new Date('2026-11-24T02:00:00Z');
const NAMES = ['controller-1', 'controller-2', 'controller-3'];

/** The lab's spec shape: three controllers, three HTTP services with their VIPs, Galera's VIP. */
function labSpec(): ClusterSpec {
  const { spec, problems } = validateClusterSpec({
    apiVersion: 'triad.io/v1',
    metadata: { name: 'lab' },
    topology: {
      mode: 'ACTIVE_ACTIVE',
      nodes: NAMES.map((name, i) => ({ name, managementAddress: `10.9.0.${i + 1}`, internalAddress: `10.9.0.${i + 1}` })),
      networks: { public: { cidr: '10.9.0.0/24', nic: 'eth0' }, internal: { cidr: '10.9.0.0/24', nic: 'eth0' } },
    },
    services: [
      { name: 'keystone', vip: '10.9.0.10' },
      { name: 'glance-api', vip: '10.9.0.11' },
      { name: 'nova-api', vip: '10.9.0.12' },
    ],
    galera: { clusterName: 'lab-galera', vip: '10.9.0.100' },
    rabbitmq: { erlangCookie: { secretRef: 'cookie' } },
    pacemaker: { properties: { stonithEnabled: false } },
    acknowledgedWarnings: ['STONITH_DISABLED'],
  });
  if (!spec) throw new Error(problems.map((p) => p.message).join('; '));
  return spec;
}
const SPEC = labSpec();
const VIPS: Record<string, string[]> = { 'controller-1': ['vip-keystone', 'vip-galera'], 'controller-2': ['vip-glance-api'], 'controller-3': ['vip-nova-api'] };

type Resource = PacemakerHealthDetail['resources'][number];
const resource = (id: string, agent: string, nodes: string[], extra: Partial<Resource> = {}): Resource => ({
  id,
  agent,
  role: nodes.length ? 'Started' : 'Stopped',
  active: nodes.length > 0,
  managed: true,
  failed: false,
  blocked: false,
  orphaned: false,
  nodes,
  ...extra,
});

/** crm_mon as `self` sees a healthy lab cluster (VIPs + HAProxy clone), changed by `edit`. */
function pacemaker(self: string, edit: (d: PacemakerHealthDetail) => void = () => undefined): ComponentReport {
  const d: PacemakerHealthDetail = {
    node: self,
    dc: 'controller-3',
    heldVips: VIPS[self] ?? [],
    quorate: true,
    maintenanceMode: false,
    stopAllResources: false,
    stonithEnabled: false,
    nodes: NAMES.map((name, i) => ({ name, id: String(i + 1), online: true, standby: false, maintenance: false, unclean: false, pending: false, shutdown: false, isDc: name === 'controller-3', resourcesRunning: 2 })),
    resources: [
      ...Object.entries(VIPS).flatMap(([node, ids]) => ids.map((id) => resource(id, 'ocf:heartbeat:IPaddr2', [node]))),
      ...NAMES.map((n) => resource('haproxy', 'ocf:heartbeat:anything', [n], { parent: 'haproxy-clone' })),
    ],
    failedActions: [],
  };
  edit(d);
  return { component: 'pacemaker', state: 'COMPONENT_OK', summary: '3/3 nodes online', detail: d };
}

function haproxy(edit: (d: HaproxyHealthDetail) => void = () => undefined): ComponentReport {
  const backend = (name: string) => ({ name, status: 'UP', servers: NAMES.map((n) => ({ name: n, status: 'UP', checkStatus: 'L7OK' })) });
  const d: HaproxyHealthDetail = {
    frontends: ['keystone', 'glance-api', 'nova-api', 'galera'].map((name) => ({ name, status: 'OPEN' })),
    backends: ['keystone', 'glance-api', 'nova-api'].map(backend),
  };
  edit(d);
  return { component: 'haproxy', state: 'COMPONENT_OK', summary: '', detail: d };
}

function galera(edit: (d: GaleraHealthDetail) => void = () => undefined, state = 'COMPONENT_OK'): ComponentReport {
  const d: GaleraHealthDetail = { running: true, localState: 4, localStateComment: 'Synced', clusterStatus: 'Primary', clusterSize: 3, expectedClusterSize: 3, lastCommitted: 10, ready: true, connected: true };
  edit(d);
  return { component: 'galera', state, summary: state === 'COMPONENT_OK' ? 'Synced' : 'not ok', detail: d };
}

function rabbitmq(self: string, edit: (d: RabbitmqHealthDetail) => void = () => undefined, state = 'COMPONENT_OK'): ComponentReport {
  const all = NAMES.map((n) => `rabbit@${n}`);
  const d: RabbitmqHealthDetail = { node: `rabbit@${self}`, runningNodes: [...all], expectedNodes: [...all], diskNodes: [...all], partitions: {}, alarms: [] };
  edit(d);
  return { component: 'rabbitmq', state, summary: state, detail: d };
}

function node(name: string, components: ComponentReport[], extra: Partial<NodeHealthInput> = {}): NodeHealthInput {
  return {
    id: `id-${name}`,
    name,
    status: 'ONLINE',
    statusChangedAt: new Date(NOW.getTime() - 600_000),
    lastHeartbeatAt: new Date(NOW.getTime() - 1_000),
    appliedRevision: 1,
    appliedArtifacts: { 'haproxy.cfg': `sha-${name}` },
    components,
    ...extra,
  };
}

/** A healthy 3-node lab: every node reports pacemaker and haproxy. */
function healthyNodes(): NodeHealthInput[] {
  return NAMES.map((n) => node(n, [pacemaker(n), haproxy()]));
}

function evaluate(nodes: NodeHealthInput[], extra: Partial<ClusterHealthInput> = {}, now = NOW) {
  return evaluateCluster({ spec: SPEC, revision: 1, nodes, ...extra }, now);
}

const codes = (findings: FindingDraft[]) => findings.map((f) => `${f.code}:${f.nodeName ?? '*'}:${f.subject ?? ''}`);
const only = (findings: FindingDraft[], code: string) => findings.filter((f) => f.code === code);

function replace(nodes: NodeHealthInput[], name: string, change: (n: NodeHealthInput) => NodeHealthInput): NodeHealthInput[] {
  return nodes.map((n) => (n.name === name ? change(n) : n));
}

describe(evaluateCluster.name, () => {
  it('a healthy cluster is HEALTHY with no findings', () => {
    expect(evaluate(healthyNodes())).toEqual({ health: 'HEALTHY', findings: [], held: [] });
  });

  it('is UNKNOWN without a desired revision, or before any node has reported', () => {
    expect(evaluateCluster({ spec: undefined, revision: 0, nodes: healthyNodes() }, NOW)).toEqual({ health: 'UNKNOWN', findings: [], held: [] });
    expect(evaluate(NAMES.map((n) => node(n, [], { status: 'PENDING' })))).toEqual({ health: 'UNKNOWN', findings: [], held: [] });
  });

  describe('liveness', () => {
    it('an UNREACHABLE node yields only the node finding (its stale components are ignored), owner NONE, and says Pacemaker still sees it', () => {
      const nodes = replace(healthyNodes(), 'controller-1', (n) => ({ ...n, status: 'UNREACHABLE', components: [pacemaker('controller-1', (d) => (d.quorate = false)), haproxy((d) => (d.backends[0].status = 'DOWN'))] }));
      const r = evaluate(nodes);
      expect(r.health).toBe('DEGRADED');
      expect(codes(r.findings)).toEqual(['NODE_UNREACHABLE:controller-1:']);
      const [f] = r.findings;
      expect(f).toMatchObject({ severity: 'WARNING', owner: 'NONE', nodeId: 'id-controller-1', component: 'node' });
      expect(f.message).toContain('Pacemaker on controller-2, controller-3 still sees it online — our network?');
      expect(f.action).toContain('not remediated');
    });

    it('says when Pacemaker sees the node offline too', () => {
      const offline = (d: PacemakerHealthDetail) => {
        const c1 = d.nodes.find((x) => x.name === 'controller-1');
        if (c1) c1.online = false;
        d.heldVips = d.node === 'controller-2' ? ['vip-glance-api', 'vip-keystone', 'vip-galera'] : d.heldVips;
      };
      const nodes = healthyNodes().map((n) => (n.name === 'controller-1' ? { ...n, status: 'UNREACHABLE' as const } : { ...n, components: [pacemaker(n.name, offline), haproxy()] }));
      const r = evaluate(nodes);
      expect(codes(r.findings)).toEqual(['NODE_UNREACHABLE:controller-1:']);
      expect(r.findings[0].message).toContain('sees it offline too');
    });

    it('a SUSPECT node\'s open findings are held as they are (not resolved), an UNREACHABLE node\'s are not', () => {
      const open = new Map([
        ['GALERA_DOWN:controller-2:', { firstSeenAt: new Date(NOW.getTime() - 30_000), nodeName: 'controller-2', severity: 'WARNING' as const }],
        ['VIP_NOT_HELD:*:vip-keystone', { firstSeenAt: new Date(NOW.getTime() - 30_000), nodeName: null, severity: 'CRITICAL' as const }],
      ]);
      const suspect = evaluate(replace(healthyNodes(), 'controller-2', (n) => ({ ...n, status: 'SUSPECT' })), { openFindings: open });
      expect(suspect.held).toEqual(['GALERA_DOWN:controller-2:']);
      expect(codes(suspect.findings)).toEqual(['NODE_SUSPECT:controller-2:']);
      expect(suspect.health).toBe('DEGRADED');
      const unreachable = evaluate(replace(healthyNodes(), 'controller-2', (n) => ({ ...n, status: 'UNREACHABLE' })), { openFindings: open });
      expect(unreachable.held).toEqual([]);
    });

    it('a SUSPECT node is a warning; every node UNREACHABLE is CRITICAL', () => {
      expect(codes(evaluate(replace(healthyNodes(), 'controller-2', (n) => ({ ...n, status: 'SUSPECT' }))).findings)).toEqual(['NODE_SUSPECT:controller-2:']);
      const r = evaluate(healthyNodes().map((n) => ({ ...n, status: 'UNREACHABLE' as const })));
      expect(r.health).toBe('CRITICAL');
      expect(r.findings.map((f) => f.severity)).toEqual(['CRITICAL', 'CRITICAL', 'CRITICAL']);
    });
  });

  describe('cluster stack and quorum', () => {
    it('corosync/pacemakerd not running on a reachable node is CLUSTER_STACK_DOWN, owner TRIAD', () => {
      const nodes = replace(healthyNodes(), 'controller-2', (n) => ({
        ...n,
        components: [
          { component: 'corosync', state: 'COMPONENT_DOWN', summary: 'corosync is not running', detail: undefined },
          { component: 'pacemaker', state: 'COMPONENT_DOWN', summary: 'pacemaker does not answer on this node', detail: undefined },
          haproxy(),
        ],
      }));
      // The others see it offline and its haproxy instance stopped: explained by the stack finding.
      const others = nodes.map((n) =>
        n.name === 'controller-2'
          ? n
          : {
              ...n,
              components: [
                pacemaker(n.name, (d) => {
                  const c2 = d.nodes.find((x) => x.name === 'controller-2');
                  if (c2) c2.online = false;
                  d.resources = d.resources.map((r) => (r.id === 'haproxy' && r.nodes[0] === 'controller-2' ? resource('haproxy', r.agent, [], { parent: 'haproxy-clone' }) : r));
                  d.resources = d.resources.map((r) => (r.id === 'vip-glance-api' ? resource(r.id, r.agent, ['controller-3']) : r));
                  if (d.node === 'controller-3') d.heldVips = ['vip-nova-api', 'vip-glance-api'];
                }),
                haproxy(),
              ],
            },
      );
      const r = evaluate(others);
      expect(codes(r.findings)).toEqual(['CLUSTER_STACK_DOWN:controller-2:']);
      expect(r.findings[0]).toMatchObject({ owner: 'TRIAD', severity: 'WARNING', component: 'corosync', detail: { down: ['corosync', 'pacemakerd'] } });
    });

    it('no reachable node quorate is QUORUM_LOST (CRITICAL); one node without quorum is a warning for that node', () => {
      const all = healthyNodes().map((n) => ({ ...n, components: [pacemaker(n.name, (d) => (d.quorate = false)), haproxy()] }));
      const r = evaluate(all);
      expect(r.health).toBe('CRITICAL');
      expect(codes(only(r.findings, 'QUORUM_LOST'))).toEqual(['QUORUM_LOST:*:']);

      const one = replace(healthyNodes(), 'controller-1', (n) => ({ ...n, components: [pacemaker('controller-1', (d) => (d.quorate = false)), haproxy()] }));
      const q = only(evaluate(one).findings, 'QUORUM_LOST');
      expect(q).toHaveLength(1);
      expect(q[0]).toMatchObject({ nodeName: 'controller-1', severity: 'WARNING', owner: 'OPERATOR' });
    });

    it('a node Triad hears from but Pacemaker sees offline is PACEMAKER_NODE_OFFLINE', () => {
      const nodes = healthyNodes().map((n) => ({
        ...n,
        components: [
          pacemaker(n.name, (d) => {
            const c1 = d.nodes.find((x) => x.name === 'controller-1');
            if (c1) c1.unclean = true;
          }),
          haproxy(),
        ],
      }));
      const f = only(evaluate(nodes).findings, 'PACEMAKER_NODE_OFFLINE');
      expect(f).toHaveLength(1);
      expect(f[0]).toMatchObject({ nodeName: 'controller-1', owner: 'TRIAD' });
      expect(f[0].message).toContain('Pacemaker on controller-3 sees controller-1 unclean');
    });

    it('a node whose stack was just restarted while every other stack is down is PACEMAKER_NODE_OFFLINE until its own Pacemaker counts it online', () => {
      const stackDown = (n: NodeHealthInput): NodeHealthInput => ({
        ...n,
        components: [
          { component: 'corosync', state: 'COMPONENT_DOWN', summary: 'corosync is not running', detail: undefined },
          { component: 'pacemaker', state: 'COMPONENT_DOWN', summary: 'pacemaker does not answer on this node', detail: undefined },
          haproxy(),
        ],
      });
      const alone = (selfOnline: boolean) => (n: NodeHealthInput): NodeHealthInput => ({
        ...n,
        components: [
          {
            ...pacemaker(n.name, (d) => {
              d.quorate = false;
              d.dc = selfOnline ? n.name : undefined;
              for (const x of d.nodes) x.online = x.name === n.name && selfOnline;
              d.resources = [];
            }),
            state: 'COMPONENT_DOWN',
          },
          haproxy(),
        ],
      });
      const cluster = (selfOnline: boolean) => healthyNodes().map((n) => (n.name === 'controller-3' ? alone(selfOnline)(n) : stackDown(n)));

      // Just started: crm_mon answers, but controller-3 is not an online member in its own view yet.
      const joining = evaluate(cluster(false)).findings;
      expect(only(joining, 'PACEMAKER_NODE_OFFLINE').map((f) => [f.nodeName, f.detail['viewer']])).toEqual([['controller-3', 'controller-3']]);
      expect(only(joining, 'CLUSTER_STACK_DOWN').map((f) => f.nodeName)).toEqual(['controller-1', 'controller-2']);

      // Online in its own partition: a member of the cluster there is, without quorum (cluster-wide).
      const member = evaluate(cluster(true)).findings;
      expect(only(member, 'PACEMAKER_NODE_OFFLINE')).toEqual([]);
      expect(codes(only(member, 'QUORUM_LOST'))).toEqual(['QUORUM_LOST:*:']);
    });
  });

  describe('resources and ownership', () => {
    const failedMonitor = (failCount: number) => (d: PacemakerHealthDetail) => {
      d.failedActions = [
        { resource: 'haproxy', operation: 'haproxy_monitor_10000', task: 'monitor', node: 'controller-2', exitCode: 7, exitStatus: 'not running', exitReason: '', intervalMs: 10_000, lastRcChange: 'x', failCount },
      ];
    };
    const withFailure = (failCount: number) => healthyNodes().map((n) => ({ ...n, components: [pacemaker(n.name, failedMonitor(failCount)), haproxy()] }));

    it('a failed action is RESOURCE_FAILED, owned by Pacemaker during the grace, then by Triad', () => {
      const first = only(evaluate(withFailure(1)).findings, 'RESOURCE_FAILED');
      expect(first).toHaveLength(1);
      expect(first[0]).toMatchObject({ key: 'RESOURCE_FAILED:controller-2:haproxy', owner: 'PACEMAKER', nodeId: 'id-controller-2', detail: { resource: 'haproxy', failCount: 1, node: 'controller-2' } });
      expect(first[0].action).toBe('waiting for Pacemaker to recover haproxy (60 s left)');

      const opened = new Map([['RESOURCE_FAILED:controller-2:haproxy', { firstSeenAt: new Date(NOW.getTime() - 45_000), nodeName: 'controller-2', severity: 'WARNING' as const }]]);
      expect(only(evaluate(withFailure(1), { openFindings: opened }).findings, 'RESOURCE_FAILED')[0].action).toBe('waiting for Pacemaker to recover haproxy (15 s left)');

      const old = new Map([['RESOURCE_FAILED:controller-2:haproxy', { firstSeenAt: new Date(NOW.getTime() - 61_000), nodeName: 'controller-2', severity: 'WARNING' as const }]]);
      const late = only(evaluate(withFailure(1), { openFindings: old }).findings, 'RESOURCE_FAILED')[0];
      expect(late.owner).toBe('TRIAD');
      expect(late.action).toContain('did not recover haproxy within 60 s');
    });

    it('the grace restarts when a node came back into the cluster: Pacemaker could not act while it was missing', () => {
      const old = new Map([['RESOURCE_FAILED:controller-2:haproxy', { firstSeenAt: new Date(NOW.getTime() - 120_000), nodeName: 'controller-2', severity: 'WARNING' as const }]]);
      const back = only(evaluate(withFailure(1), { openFindings: old, membershipSettledAt: new Date(NOW.getTime() - 20_000) }).findings, 'RESOURCE_FAILED')[0];
      expect([back.owner, back.action]).toEqual(['PACEMAKER', 'waiting for Pacemaker to recover haproxy (40 s left)']);
      // A node that came back long ago changes nothing.
      expect(only(evaluate(withFailure(1), { openFindings: old, membershipSettledAt: new Date(NOW.getTime() - 600_000) }).findings, 'RESOURCE_FAILED')[0].owner).toBe('TRIAD');
    });

    it('a fail count at the migration-threshold is Triad\'s at once (Pacemaker has given up there)', () => {
      const f = only(evaluate(withFailure(3), { migrationThreshold: 3 }).findings, 'RESOURCE_FAILED')[0];
      expect(f.owner).toBe('TRIAD');
      expect(f.message).toContain('(at the migration-threshold: Pacemaker gave up there)');
    });

    it('a blocked or unmanaged resource is RESOURCE_BLOCKED, owner TRIAD', () => {
      const nodes = healthyNodes().map((n) => ({
        ...n,
        components: [pacemaker(n.name, (d) => (d.resources = d.resources.map((r) => (r.id === 'vip-nova-api' ? { ...r, managed: false } : r)))), haproxy()],
      }));
      const f = only(evaluate(nodes).findings, 'RESOURCE_BLOCKED');
      expect(f).toMatchObject([{ subject: 'vip-nova-api', owner: 'TRIAD', detail: { unmanaged: true } }]);
    });

    it('a clone instance not running on an eligible node is RESOURCE_STOPPED there', () => {
      const nodes = healthyNodes().map((n) => ({
        ...n,
        components: [pacemaker(n.name, (d) => (d.resources = d.resources.map((r) => (r.id === 'haproxy' && r.nodes[0] === 'controller-1' ? resource('haproxy', r.agent, [], { parent: 'haproxy-clone' }) : r)))), haproxy()],
      }));
      const f = only(evaluate(nodes).findings, 'RESOURCE_STOPPED');
      expect(f).toMatchObject([{ key: 'RESOURCE_STOPPED:controller-1:haproxy', owner: 'PACEMAKER', severity: 'WARNING' }]);
    });

    it('maintenance-mode, standby and node maintenance left on are MAINTENANCE_LEFT_ON unless the spec asks for them', () => {
      const edit = (d: PacemakerHealthDetail) => {
        d.maintenanceMode = true;
        const c2 = d.nodes.find((x) => x.name === 'controller-2');
        if (c2) c2.standby = true;
      };
      const nodes = healthyNodes().map((n) => ({ ...n, components: [pacemaker(n.name, edit), haproxy()] }));
      expect(codes(only(evaluate(nodes).findings, 'MAINTENANCE_LEFT_ON'))).toEqual(['MAINTENANCE_LEFT_ON:*:maintenance-mode', 'MAINTENANCE_LEFT_ON:controller-2:standby']);
      const wanted: ClusterSpec = { ...SPEC, pacemaker: { ...SPEC.pacemaker, maintenance: { cluster: true, nodes: [] } } };
      expect(codes(only(evaluate(nodes, { spec: wanted }).findings, 'MAINTENANCE_LEFT_ON'))).toEqual(['MAINTENANCE_LEFT_ON:controller-2:standby']);
    });
  });

  describe('VIPs', () => {
    it('a spec VIP that no reachable node holds is VIP_NOT_HELD (CRITICAL)', () => {
      const nodes = replace(healthyNodes(), 'controller-3', (n) => ({ ...n, components: [pacemaker('controller-3', (d) => (d.heldVips = [])), haproxy()] }));
      const r = evaluate(nodes);
      expect(r.health).toBe('CRITICAL');
      expect(r.findings).toMatchObject([{ code: 'VIP_NOT_HELD', subject: 'vip-nova-api', severity: 'CRITICAL', owner: 'PACEMAKER', detail: { address: '10.9.0.12' } }]);
    });

    it('a VIP held by two nodes is VIP_HELD_TWICE (CRITICAL)', () => {
      const nodes = replace(healthyNodes(), 'controller-2', (n) => ({ ...n, components: [pacemaker('controller-2', (d) => (d.heldVips = ['vip-glance-api', 'vip-keystone'])), haproxy()] }));
      expect(evaluate(nodes).findings).toMatchObject([{ code: 'VIP_HELD_TWICE', subject: 'vip-keystone', detail: { heldBy: ['controller-1', 'controller-2'] } }]);
    });

    it('VIPs are not judged when no node reports Pacemaker', () => {
      expect(evaluate(NAMES.map((n) => node(n, [haproxy()])))).toEqual({ health: 'HEALTHY', findings: [], held: [] });
    });
  });

  describe('Galera', () => {
    const withGalera = (edit: (name: string) => ComponentReport) => healthyNodes().map((n) => ({ ...n, components: [...n.components, edit(n.name)] }));

    it('mariadbd down on one node is GALERA_DOWN; the Primary shrinks (GALERA_CLUSTER_SIZE)', () => {
      const nodes = withGalera((n) => (n === 'controller-2' ? galera((d) => Object.assign(d, { running: false, clusterStatus: undefined, localState: undefined }), 'COMPONENT_DOWN') : galera((d) => (d.clusterSize = 2))));
      const r = evaluate(nodes);
      expect(codes(r.findings)).toEqual(['GALERA_CLUSTER_SIZE:*:', 'GALERA_DOWN:controller-2:']);
      // No galera resource in Pacemaker: the agent runs it, Triad repairs it.
      expect(only(r.findings, 'GALERA_DOWN')[0].owner).toBe('TRIAD');
    });

    it('a member not Synced is GALERA_NOT_SYNCED', () => {
      const nodes = withGalera((n) => galera((d) => n === 'controller-3' && Object.assign(d, { localState: 2, localStateComment: 'Donor/Desynced' }), n === 'controller-3' ? 'COMPONENT_DEGRADED' : 'COMPONENT_OK'));
      const f = only(evaluate(nodes).findings, 'GALERA_NOT_SYNCED');
      expect(f).toHaveLength(1);
      expect(f[0].message).toContain('Donor/Desynced');
    });

    it('no Primary anywhere is GALERA_NO_PRIMARY (CRITICAL) with each member\'s position or "not reported"', () => {
      const nodes = withGalera((n) =>
        galera((d) => Object.assign(d, { running: false, clusterStatus: undefined, grastate: { uuid: 'u', seqno: n === 'controller-1' ? 10 : 12, safeToBootstrap: false } }), 'COMPONENT_DOWN'),
      ).map((n) => (n.name === 'controller-3' ? { ...n, components: n.components.filter((c) => c.component !== 'galera') } : n));
      const r = evaluate(nodes);
      expect(r.health).toBe('CRITICAL');
      expect(codes(only(r.findings, 'GALERA_NO_PRIMARY'))).toEqual(['GALERA_NO_PRIMARY:*:']);
      expect(only(r.findings, 'GALERA_DOWN')).toEqual([]);
      expect(only(r.findings, 'GALERA_NO_PRIMARY')[0].detail).toEqual({
        members: {
          'controller-1': { uuid: 'u', seqno: 10, safeToBootstrap: false, running: false },
          'controller-2': { uuid: 'u', seqno: 12, safeToBootstrap: false, running: false },
          'controller-3': 'not reported',
        },
      });
    });

    it('with a galera resource in Pacemaker, a member down is Pacemaker\'s during the grace', () => {
      const withResource = (d: PacemakerHealthDetail) => d.resources.push(...NAMES.map((n) => resource('galera', 'ocf:heartbeat:galera', n === 'controller-2' ? [] : [n], { parent: 'galera-clone' })));
      const nodes = healthyNodes().map((n) => ({
        ...n,
        components: [pacemaker(n.name, withResource), haproxy(), n.name === 'controller-2' ? galera((d) => (d.running = false), 'COMPONENT_DOWN') : galera((d) => (d.clusterSize = 2))],
      }));
      const r = evaluate(nodes);
      expect(only(r.findings, 'GALERA_DOWN')[0].owner).toBe('PACEMAKER');
      expect(codes(only(r.findings, 'RESOURCE_STOPPED'))).toEqual(['RESOURCE_STOPPED:controller-2:galera']);
    });
  });

  describe('RabbitMQ', () => {
    const all = NAMES.map((n) => `rabbit@${n}`);
    const withRabbit = (edit: (name: string) => ComponentReport) => healthyNodes().map((n) => ({ ...n, components: [...n.components, edit(n.name)] }));

    it('a stopped node is RABBITMQ_DOWN plus RABBITMQ_NODES_MISSING (a warning while a majority runs)', () => {
      const running = all.filter((n) => n !== 'rabbit@controller-1');
      const r = evaluate(withRabbit((n) => (n === 'controller-1' ? rabbitmq(n, (d) => (d.runningNodes = []), 'COMPONENT_DOWN') : rabbitmq(n, (d) => (d.runningNodes = running), 'COMPONENT_DEGRADED'))));
      expect(codes(r.findings)).toEqual(['RABBITMQ_DOWN:controller-1:', 'RABBITMQ_NODES_MISSING:*:']);
      expect(only(r.findings, 'RABBITMQ_NODES_MISSING')[0]).toMatchObject({ severity: 'WARNING', detail: { missing: ['rabbit@controller-1'] } });
    });

    it('a majority down is CRITICAL', () => {
      const r = evaluate(withRabbit((n) => (n === 'controller-3' ? rabbitmq(n, (d) => (d.runningNodes = ['rabbit@controller-3']), 'COMPONENT_DEGRADED') : rabbitmq(n, (d) => (d.runningNodes = []), 'COMPONENT_DOWN'))));
      expect(r.health).toBe('CRITICAL');
      expect(only(r.findings, 'RABBITMQ_NODES_MISSING')[0].severity).toBe('CRITICAL');
    });

    it('a partition is RABBITMQ_PARTITION on the minority side (the node that cannot see a majority)', () => {
      const partitions = (n: string) =>
        n === 'controller-1' ? { 'rabbit@controller-1': ['rabbit@controller-2', 'rabbit@controller-3'] } : { [`rabbit@${n}`]: ['rabbit@controller-1'] };
      const r = evaluate(withRabbit((n) => rabbitmq(n, (d) => (d.partitions = partitions(n)), 'COMPONENT_DEGRADED')));
      expect(r.findings).toMatchObject([{ key: 'RABBITMQ_PARTITION:controller-1:', owner: 'TRIAD' }]);
    });
  });

  describe('HAProxy', () => {
    it('a backend with servers down is HAPROXY_BACKEND_DOWN on the node that sees it', () => {
      const nodes = replace(healthyNodes(), 'controller-2', (n) => ({
        ...n,
        components: [pacemaker('controller-2'), haproxy((d) => (d.backends[0].servers[0] = { name: 'controller-1', status: 'DOWN', checkStatus: 'L4TOUT' }))],
      }));
      expect(evaluate(nodes).findings).toMatchObject([{ key: 'HAPROXY_BACKEND_DOWN:controller-2:keystone', owner: 'OPERATOR', detail: { down: ['controller-1'] } }]);
    });

    it('the galera backend is not expected up when the layout has no Galera, and is when it does', () => {
      const galeraDown = (d: HaproxyHealthDetail) => d.backends.push({ name: 'galera', status: 'DOWN', servers: NAMES.map((name) => ({ name, status: 'DOWN', checkStatus: 'L4CON' })) });
      const nodes = healthyNodes().map((n) => ({ ...n, components: [pacemaker(n.name), haproxy(galeraDown)] }));
      expect(evaluate(nodes)).toEqual({ health: 'HEALTHY', findings: [], held: [] });
      const withGalera = nodes.map((n) => ({ ...n, components: [...n.components, galera()] }));
      expect(codes(evaluate(withGalera).findings)).toEqual(NAMES.map((n) => `HAPROXY_BACKEND_DOWN:${n}:galera`));
    });
  });

  describe('configuration drift', () => {
    it('a node behind the desired revision, or an applied artifact unlike the revision\'s, is CONFIG_DRIFT', () => {
      const nodes = replace(healthyNodes(), 'controller-3', (n) => ({ ...n, appliedRevision: 0 }));
      const expectedArtifacts = Object.fromEntries(NAMES.map((n) => [n, { 'haproxy.cfg': n === 'controller-1' ? 'other' : `sha-${n}`, 'cib.xml': 'x' }]));
      expect(codes(evaluate(nodes, { expectedArtifacts }).findings)).toEqual(['CONFIG_DRIFT:controller-1:haproxy.cfg', 'CONFIG_DRIFT:controller-3:revision']);
    });

    it('a live file the agent reports changed on disk (or removed) is CONFIG_DRIFT that says so, owned by Triad', () => {
      const nodes = healthyNodes().map((n) =>
        n.name === 'controller-2' ? { ...n, appliedArtifacts: { 'haproxy.cfg': 'changed-on-disk:0123abcd' } } : n.name === 'controller-3' ? { ...n, appliedArtifacts: { 'haproxy.cfg': 'changed-on-disk:missing' } } : n,
      );
      const expectedArtifacts = Object.fromEntries(NAMES.map((n) => [n, { 'haproxy.cfg': `sha-${n}` }]));
      const drift = only(evaluate(nodes, { expectedArtifacts }).findings, 'CONFIG_DRIFT');
      expect(drift.map((f) => [f.key, f.owner, f.message, f.detail['onDisk']])).toEqual([
        ['CONFIG_DRIFT:controller-2:haproxy.cfg', 'TRIAD', 'haproxy.cfg on controller-2 was changed on disk since Triad applied revision 1.', '0123abcd'],
        ['CONFIG_DRIFT:controller-3:haproxy.cfg', 'TRIAD', 'haproxy.cfg on controller-3 was removed since Triad applied revision 1.', 'missing'],
      ]);
    });
  });

  describe('generic fallbacks', () => {
    it('an unruled component DOWN is COMPONENT_DOWN; NOT_CONFIGURED is not expected; a probe that cannot tell is COMPONENT_DEGRADED', () => {
      const nodes = replace(healthyNodes(), 'controller-1', (n) => ({
        ...n,
        components: [
          ...n.components,
          { component: 'rabbitmq-definitions', state: 'COMPONENT_DOWN', summary: 'missing', detail: undefined },
          { component: 'galera', state: 'COMPONENT_NOT_CONFIGURED', summary: 'no galera.cnf applied yet', detail: undefined },
          { component: 'corosync', state: 'COMPONENT_UNKNOWN', summary: 'could not read corosync status', detail: undefined },
        ],
      }));
      const r = evaluate(nodes);
      expect(codes(r.findings)).toEqual(['COMPONENT_DEGRADED:controller-1:corosync', 'COMPONENT_DOWN:controller-1:rabbitmq-definitions']);
      expect(only(r.findings, 'COMPONENT_DOWN')[0].component).toBe('rabbitmq');
    });
  });
});

describe('component reports', () => {
  it('parse the Redis heartbeat list and the nodes.health snapshot alike', () => {
    const hb = reportsFromHeartbeat(JSON.stringify([{ component: 'haproxy', state: 'COMPONENT_OK', summary: 's', detailJson: '{"frontends":[],"backends":[]}' }, { component: 'galera', state: 'COMPONENT_NOT_CONFIGURED', summary: '', detailJson: '' }]));
    expect(hb).toEqual([
      { component: 'haproxy', state: 'COMPONENT_OK', summary: 's', detail: { frontends: [], backends: [] } },
      { component: 'galera', state: 'COMPONENT_NOT_CONFIGURED', summary: '', detail: undefined },
    ]);
    expect(reportsFromSnapshot({ reportedAt: 'x', components: [{ component: 'haproxy', state: 'COMPONENT_OK', summary: 's', detail: { frontends: [], backends: [] } }] })).toEqual([hb[0]]);
    expect(reportsFromHeartbeat('not json')).toEqual([]);
  });
});
