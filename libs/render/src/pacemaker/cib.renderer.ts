import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces';
import { specVips, type ClusterSpec, type FencingDevice, type VipResource } from '@triad/spec';
import { artifact, type Artifact } from '../artifact';
import { DEFAULT_HOST_PROFILE, type HostProfile } from '../host-profile';
import { findNode } from '../node-lookup';
import { CIB_IDS, galeraNodeName } from './cib-ids';

/** LAB.md: 3.16.2 makes crm_simulate 2.1.5 abort; pacemaker-3.9 is the newest schema it knows. */
const CRM_FEATURE_SET = '3.16.1';
const VALIDATE_WITH = 'pacemaker-3.9';
/** Pacemaker's cibsecret marker: the real value lives in /var/lib/pacemaker/lrm/secrets on the node. */
const CIBSECRET = 'lrm://';

type Pairs = [name: string, value: string][];

function nvset(parent: XMLBuilder, tag: string, id: string, pairs: Pairs): void {
  if (pairs.length === 0) return;
  const set = parent.ele(tag, { id });
  for (const [name, value] of pairs) set.ele('nvpair', { id: `${id}-${name}`, name, value });
}

interface Op {
  name: string;
  interval: string;
  timeout: string;
  role?: 'Promoted' | 'Unpromoted';
}

function operations(primitive: XMLBuilder, rscId: string, ops: Op[]): void {
  const el = primitive.ele('operations');
  for (const op of ops) {
    const suffix = op.role ? `-${op.role.toLowerCase()}` : '';
    el.ele('op', {
      id: `${rscId}-${op.name}-interval-${op.interval}${suffix}`,
      name: op.name,
      interval: op.interval,
      timeout: op.timeout,
      ...(op.role ? { role: op.role } : {}),
    });
  }
}

function primitive(
  parent: XMLBuilder,
  attrs: { id: string; class: string; provider?: string; type: string },
  params: Pairs,
  meta: Pairs,
  ops: Op[],
): XMLBuilder {
  const el = parent.ele('primitive', attrs);
  nvset(el, 'instance_attributes', `${attrs.id}-instance_attributes`, params);
  nvset(el, 'meta_attributes', `${attrs.id}-meta_attributes`, meta);
  operations(el, attrs.id, ops);
  return el;
}

function crmConfig(configuration: XMLBuilder, spec: ClusterSpec): void {
  const p = spec.pacemaker.properties;
  nvset(configuration.ele('crm_config'), 'cluster_property_set', 'cib-bootstrap-options', [
    ['cluster-name', spec.metadata.name],
    ['stonith-enabled', String(p.stonithEnabled)],
    ['no-quorum-policy', p.noQuorumPolicy],
    ['cluster-recheck-interval', p.clusterRecheckInterval],
    ['dc-deadtime', p.dcDeadtime],
    ['maintenance-mode', String(spec.pacemaker.maintenance.cluster)],
  ]);
}

function nodes(configuration: XMLBuilder, spec: ClusterSpec): void {
  const el = configuration.ele('nodes');
  const inMaintenance = new Set(spec.pacemaker.maintenance.nodes);
  // Node ids are Corosync's nodeid (position in the spec), so the CIB and corosync.conf agree.
  spec.topology.nodes.forEach((node, i) => {
    const id = String(i + 1);
    const n = el.ele('node', { id, uname: node.name });
    if (inMaintenance.has(node.name)) nvset(n, 'instance_attributes', `nodes-${id}`, [['maintenance', 'true']]);
  });
}

/** Random fencing delay for two-node clusters (Red Hat's advice): both halves of a split fencing each other at once would leave no node. */
const TWO_NODE_FENCE_DELAY_MAX = '15s';

function stonithResource(resources: XMLBuilder, device: FencingDevice, nodeCount: number): void {
  const params: Pairs = Object.keys(device.params)
    .sort()
    .map((name) => {
      const value = device.params[name];
      return [name, typeof value === 'object' ? CIBSECRET : String(value)];
    });
  const hasDelay = 'pcmk_delay_max' in device.params || 'pcmk_delay_base' in device.params;
  const delay: Pairs = nodeCount === 2 && !hasDelay ? [['pcmk_delay_max', TWO_NODE_FENCE_DELAY_MAX]] : [];
  primitive(
    resources,
    { id: device.name, class: 'stonith', type: device.agent },
    [['pcmk_host_list', device.nodes.join(',')], ...delay, ...params],
    [],
    [{ name: 'monitor', interval: '60s', timeout: '20s' }],
  );
}

function vipResource(resources: XMLBuilder, vip: VipResource): void {
  primitive(
    resources,
    { id: vip.id, class: 'ocf', provider: 'heartbeat', type: 'IPaddr2' },
    [['ip', vip.address], ['cidr_netmask', String(vip.cidrNetmask)], ...(vip.nic ? ([['nic', vip.nic]] as Pairs) : [])],
    // A VIP stays where it is when a failed node comes back: moving it cuts every connection.
    [['resource-stickiness', 'INFINITY']],
    [
      { name: 'start', interval: '0s', timeout: '20s' },
      { name: 'stop', interval: '0s', timeout: '20s' },
      { name: 'monitor', interval: '10s', timeout: '20s' },
    ],
  );
}

function haproxyClone(resources: XMLBuilder, spec: ClusterSpec, profile: HostProfile): void {
  const clone = resources.ele('clone', { id: CIB_IDS.haproxyClone });
  nvset(clone, 'meta_attributes', `${CIB_IDS.haproxyClone}-meta_attributes`, [['interleave', 'true']]);
  const r = spec.pacemaker.haproxyResource;
  const monitor: Op = { name: 'monitor', interval: '10s', timeout: '20s' };
  if (r.kind === 'systemd') {
    primitive(clone, { id: CIB_IDS.haproxy, class: 'systemd', type: r.unit }, [], [], [
      { name: 'start', interval: '0s', timeout: '200s' },
      { name: 'stop', interval: '0s', timeout: '200s' },
      monitor,
    ]);
    return;
  }
  // No systemd (labs): run haproxy in the foreground in master-worker mode under ocf:heartbeat:anything,
  // with the profile's master socket when an agent reloads it.
  const { masterSocket } = profile.haproxy;
  primitive(
    clone,
    { id: CIB_IDS.haproxy, class: 'ocf', provider: 'heartbeat', type: 'anything' },
    [
      ['binfile', r.binfile],
      ['cmdline_options', ['-W', '-db', ...(masterSocket ? ['-S', `${masterSocket},mode,600`] : []), '-f', profile.haproxy.configPath].join(' ')],
    ],
    [],
    [
      { name: 'start', interval: '0s', timeout: '20s' },
      { name: 'stop', interval: '0s', timeout: '20s' },
      monitor,
    ],
  );
}

function galeraClone(resources: XMLBuilder, spec: ClusterSpec, profile: HostProfile): void {
  const members = spec.topology.nodes;
  const clone = resources.ele('clone', { id: CIB_IDS.galeraClone });
  nvset(clone, 'meta_attributes', `${CIB_IDS.galeraClone}-meta_attributes`, [
    ['promotable', 'true'],
    // Multi-master: every node is promoted (a writer-capable Galera member).
    ['promoted-max', String(members.length)],
    ['ordered', 'true'],
    ['interleave', 'true'],
    ['notify', 'true'],
  ]);
  const g = profile.galera;
  primitive(
    clone,
    { id: CIB_IDS.galera, class: 'ocf', provider: 'heartbeat', type: 'galera' },
    [
      // Galera replicates over the internal network: the gcomm list holds internal addresses and
      // cluster_host_map maps each Pacemaker node name to its address.
      ['wsrep_cluster_address', `gcomm://${members.map((n) => galeraNodeName(n)).join(',')}`],
      ['cluster_host_map', members.map((n) => `${n.name}:${galeraNodeName(n)}`).join(';')],
      ['config', g.configPath],
      ['datadir', g.dataDir],
      ['socket', g.socket],
      ['pid', g.pidFile],
      ['log', g.logFile],
      ['enable_creation', 'true'],
      ...(g.serverBinary ? ([['binary', g.serverBinary]] as Pairs) : []),
      ...(members.length === 2 ? ([['two_node_mode', 'true']] as Pairs) : []),
    ],
    [],
    [
      { name: 'start', interval: '0s', timeout: '120s' },
      { name: 'stop', interval: '0s', timeout: '120s' },
      { name: 'promote', interval: '0s', timeout: '300s' },
      { name: 'demote', interval: '0s', timeout: '120s' },
      { name: 'monitor', interval: '20s', timeout: '30s' },
      { name: 'monitor', interval: '10s', timeout: '30s', role: 'Promoted' },
    ],
  );
}

function rabbitmqClone(resources: XMLBuilder, spec: ClusterSpec): void {
  const clone = resources.ele('clone', { id: CIB_IDS.rabbitmqClone });
  nvset(clone, 'meta_attributes', `${CIB_IDS.rabbitmqClone}-meta_attributes`, [
    ['notify', 'true'],
    // Nodes join the RabbitMQ cluster one after the other, never all at once.
    ['ordered', 'true'],
    ['interleave', 'true'],
  ]);
  const r = spec.rabbitmq;
  // Quorum queues replicate by themselves; classic queues need the mirroring policy.
  const mirrors = Math.ceil(spec.topology.nodes.length / 2);
  const params: Pairs =
    r.queueType === 'classic-mirrored'
      ? [
          [
            'set_policy',
            `ha-all ${r.haPolicyPattern} {"ha-mode":"exactly","ha-params":${mirrors},"ha-promote-on-shutdown":"always"}`,
          ],
        ]
      : [];
  primitive(clone, { id: CIB_IDS.rabbitmq, class: 'ocf', provider: 'heartbeat', type: 'rabbitmq-cluster' }, params, [], [
    { name: 'start', interval: '0s', timeout: '200s' },
    { name: 'stop', interval: '0s', timeout: '200s' },
    { name: 'monitor', interval: '10s', timeout: '40s' },
  ]);
}

function constraints(configuration: XMLBuilder, spec: ClusterSpec, vips: VipResource[]): void {
  const el = configuration.ele('constraints');
  fencingLocations(el, spec);
  for (const vip of vips) {
    // A VIP only where HAProxy runs. The order is Optional (the Red Hat layout): when both start
    // together HAProxy starts first, but restarting one HAProxy instance does not restart every VIP.
    el.ele('rsc_colocation', {
      id: `colocation-${vip.id}-with-${CIB_IDS.haproxyClone}`,
      rsc: vip.id,
      'with-rsc': CIB_IDS.haproxyClone,
      score: 'INFINITY',
    });
    el.ele('rsc_order', {
      id: `order-${CIB_IDS.haproxyClone}-then-${vip.id}`,
      first: CIB_IDS.haproxyClone,
      'first-action': 'start',
      then: vip.id,
      'then-action': 'start',
      kind: 'Optional',
    });
  }
  if (spec.topology.mode === 'ACTIVE_PASSIVE' && vips.length > 0) {
    // Active/Passive: the first node is the active one (HAProxy's non-backup servers are there)
    // and every VIP follows the first VIP. A finite score: stickiness keeps VIPs where they are
    // once the first node comes back after a failure.
    el.ele('rsc_location', {
      id: `location-${vips[0].id}-prefers-${spec.topology.nodes[0].name}`,
      rsc: vips[0].id,
      node: spec.topology.nodes[0].name,
      score: '100',
    });
    for (const vip of vips.slice(1)) {
      el.ele('rsc_colocation', {
        id: `colocation-${vip.id}-with-${vips[0].id}`,
        rsc: vip.id,
        'with-rsc': vips[0].id,
        score: 'INFINITY',
      });
    }
  }
}

/** A device that fences exactly one node does not run there: a node cannot reliably fence itself. */
function fencingLocations(constraints: XMLBuilder, spec: ClusterSpec): void {
  for (const device of spec.pacemaker.fencing.devices) {
    if (device.nodes.length !== 1) continue;
    constraints.ele('rsc_location', {
      id: `location-${device.name}-avoids-${device.nodes[0]}`,
      rsc: device.name,
      node: device.nodes[0],
      score: '-INFINITY',
    });
  }
}

function fencingTopology(configuration: XMLBuilder, spec: ClusterSpec): void {
  const levels = [...spec.pacemaker.fencing.levels].sort((a, b) =>
    a.node === b.node ? a.index - b.index : a.node < b.node ? -1 : 1,
  );
  if (levels.length === 0) return;
  const el = configuration.ele('fencing-topology');
  for (const level of levels) {
    el.ele('fencing-level', {
      id: `fencing-${level.node}-${level.index}`,
      target: level.node,
      index: String(level.index),
      devices: level.devices.join(','),
    });
  }
}

/**
 * The Pacemaker CIB configuration (no status section: that belongs to the running cluster), the
 * same for every node of the cluster.
 */
export function renderCib(spec: ClusterSpec, nodeName: string, profile: HostProfile = DEFAULT_HOST_PROFILE): Artifact {
  findNode(spec, nodeName);
  const vips = specVips(spec);
  const cib = create({ version: '1.0', encoding: 'UTF-8' }).ele('cib', {
    crm_feature_set: CRM_FEATURE_SET,
    'validate-with': VALIDATE_WITH,
    epoch: '1',
    num_updates: '0',
    admin_epoch: '0',
  });
  const configuration = cib.ele('configuration');
  crmConfig(configuration, spec);
  nodes(configuration, spec);
  const resources = configuration.ele('resources');
  spec.pacemaker.fencing.devices.forEach((d) => stonithResource(resources, d, spec.topology.nodes.length));
  vips.forEach((v) => vipResource(resources, v));
  haproxyClone(resources, spec, profile);
  galeraClone(resources, spec, profile);
  rabbitmqClone(resources, spec);
  constraints(configuration, spec, vips);
  fencingTopology(configuration, spec);
  nvset(configuration.ele('rsc_defaults'), 'meta_attributes', 'rsc-options', [
    ['resource-stickiness', String(spec.pacemaker.resourceStickiness)],
  ]);
  return artifact('cib.xml', `${cib.end({ prettyPrint: true, indent: '  ' })}\n`);
}
