import type { ClusterNode, ClusterSpec } from '@triad/spec';
import { artifact, type Artifact } from '../artifact';
import { DEFAULT_HOST_PROFILE, type HostProfile } from '../host-profile';
import { findNode, renderedByTriad } from '../node-lookup';

/** The Erlang node name RabbitMQ runs a spec node as: `rabbit@<host name>` unless the profile says otherwise. */
export function rabbitmqErlangNodeName(node: ClusterNode, profile: HostProfile): string {
  return profile.rabbitmq.erlangNodeNames?.[node.name] ?? `rabbit@${node.name}`;
}

/**
 * rabbitmq.conf (the sysctl-like format of RabbitMQ 3.10) for one node. Nodes find each other
 * through classic_config peer discovery: a fresh node joins the first listed peer that answers,
 * so the first node to boot forms the cluster and the others join it.
 *
 * The Erlang cookie is a secret reference: the agent writes it to the `.erlang.cookie` of the
 * rabbitmq user; it never appears in a rendered file. RabbitMQ 3.10 has no default queue type
 * setting in rabbitmq.conf: that lives in the definitions file (renderRabbitmqDefinitions), loaded
 * at boot through `load_definitions`.
 */
export function renderRabbitmqConf(spec: ClusterSpec, nodeName: string, profile: HostProfile = DEFAULT_HOST_PROFILE): Artifact {
  const node = findNode(spec, nodeName);
  const r = spec.rabbitmq;
  const p = profile.rabbitmq;
  const distPort = p.distributionPort ?? r.distributionPort;
  const lines: [string, string | number][] = [
    // The cuttlefish `ip` type takes the last colon as the port separator, IPv6 included.
    ['listeners.tcp.default', `${node.internalAddress}:${r.port}`],
    ['cluster_formation.peer_discovery_backend', 'classic_config'],
    ...spec.topology.nodes.map((n, i): [string, string] => [`cluster_formation.classic_config.nodes.${i + 1}`, rabbitmqErlangNodeName(n, profile)]),
    ['cluster_partition_handling', r.partitionHandling],
    ['net_ticktime', r.netTickTime],
    ['distribution.listener.interface', p.distributionInterface ?? node.internalAddress],
    ['distribution.listener.port_range.min', distPort],
    ['distribution.listener.port_range.max', distPort],
    ['vm_memory_high_watermark.relative', r.memoryHighWatermark],
    ['load_definitions', p.definitionsPath],
    ['log.dir', p.logBase],
    ['log.file.level', 'info'],
    ['log.console', 'false'],
  ];
  const body = lines.map(([k, v]) => `${k} = ${v}`).join('\n') + '\n';
  return artifact('rabbitmq.conf', `${renderedByTriad(spec, nodeName, '#')}\n${body}`);
}

/**
 * TripleO's mirroring: ceil(N/2) copies of each classic queue, and a mirror is promoted even when
 * the leader stops before it is in sync. The same `ha-all` policy the Pacemaker resource agent
 * sets (cib.xml `set_policy`), so whichever applies it last changes nothing.
 */
function classicMirroredPolicy(spec: ClusterSpec): Record<string, string | number> {
  return { 'ha-mode': 'exactly', 'ha-params': Math.ceil(spec.topology.nodes.length / 2), 'ha-promote-on-shutdown': 'always' };
}

/**
 * The definitions every node loads at boot (identical on every node). With definitions to load,
 * RabbitMQ creates neither the default vhost nor the `guest` user, so the `/` vhost is declared
 * here; users and their passwords are secrets and are left to the agent.
 * - quorum: `/` gets `default_queue_type: quorum` (RabbitMQ 3.10 keeps it in vhost metadata).
 * - classic-mirrored: the `ha-all` policy over `haPolicyPattern`, the Red Hat HA layout.
 */
export function renderRabbitmqDefinitions(spec: ClusterSpec, nodeName: string): Artifact {
  findNode(spec, nodeName);
  const r = spec.rabbitmq;
  const definitions = {
    vhosts: [{ name: '/', ...(r.queueType === 'quorum' ? { metadata: { default_queue_type: 'quorum' } } : {}) }],
    policies:
      r.queueType === 'classic-mirrored'
        ? [{ vhost: '/', name: 'ha-all', pattern: r.haPolicyPattern, 'apply-to': 'all', priority: 0, definition: classicMirroredPolicy(spec) }]
        : [],
  };
  return artifact('rabbitmq-definitions.json', JSON.stringify(definitions, null, 2) + '\n');
}

export const EPMD_DEFAULT_PORT = 4369;

/** A shell assignment value: rabbitmq-env.conf is sourced by sh, so it is quoted and may not hold a quote. */
function shellValue(value: string | number): string {
  const text = String(value);
  if (text.includes("'") || text.includes('\n')) throw new Error(`rabbitmq-env.conf value ${JSON.stringify(text)} cannot be quoted safely`);
  return `'${text}'`;
}

/**
 * rabbitmq-env.conf: what the server scripts and rabbitmqctl read before Erlang starts — the node
 * name, where rabbitmq.conf and the data and logs live, and where epmd listens. The `ERL_EPMD_*`
 * variables are exported because the Erlang VM, not RabbitMQ, reads them.
 */
export function renderRabbitmqEnvConf(spec: ClusterSpec, nodeName: string, profile: HostProfile = DEFAULT_HOST_PROFILE): Artifact {
  const node = findNode(spec, nodeName);
  const p = profile.rabbitmq;
  const lines = [
    `NODENAME=${shellValue(rabbitmqErlangNodeName(node, profile))}`,
    // The scripts otherwise derive it as AMQP port + 20000, whatever rabbitmq.conf says.
    `DIST_PORT=${shellValue(p.distributionPort ?? spec.rabbitmq.distributionPort)}`,
    `CONFIG_FILE=${shellValue(p.configPath)}`,
    `MNESIA_BASE=${shellValue(p.mnesiaBase)}`,
    `LOG_BASE=${shellValue(p.logBase)}`,
    `export ERL_EPMD_ADDRESS=${shellValue(p.epmdAddress ?? node.internalAddress)}`,
    `export ERL_EPMD_PORT=${shellValue(p.epmdPort ?? EPMD_DEFAULT_PORT)}`,
  ];
  return artifact('rabbitmq-env.conf', `${renderedByTriad(spec, nodeName, '#')}\n${lines.join('\n')}\n`);
}
