import { resolveGaleraFrontend, resolveServices, type ClusterSpec, type ResolvedService } from '@triad/spec';
import { artifact, type Artifact } from '../artifact';
import { DEFAULT_HOST_PROFILE, type HostProfile } from '../host-profile';
import { findNode, renderedByTriad } from '../node-lookup';

/** HAProxy wants IPv6 bind and server addresses in brackets only in some places; `ipv6@` is unambiguous. */
function endpoint(address: string, port: number): string {
  return address.includes(':') ? `ipv6@${address}:${port}` : `${address}:${port}`;
}

/**
 * `transparent` lets every node's HAProxy bind every VIP, including the ones another node holds
 * (IP_TRANSPARENT, as TripleO does): a VIP that moves in finds HAProxy already listening, and the
 * start does not depend on the ip_nonlocal_bind sysctl.
 */
function bindLine(address: string, port: number): string {
  return `bind ${endpoint(address, port)} transparent`;
}

function section(header: string, lines: string[]): string {
  return [header, ...lines.map((l) => `  ${l}`)].join('\n') + '\n';
}

function globalSection(profile: HostProfile): string {
  const h = profile.haproxy;
  return section('global', [
    ...(h.logTarget ? [`log ${h.logTarget} local0`] : []),
    ...(h.chroot ? [`chroot ${h.chroot}`] : []),
    ...(h.user ? [`user ${h.user}`] : []),
    ...(h.group ? [`group ${h.group}`] : []),
    `maxconn ${h.maxconn ?? 20480}`,
    // expose-fd lets a reload hand listening sockets to the new worker: no refused connections.
    `stats socket ${h.statsSocket} mode 600 level admin expose-fd listeners`,
    'stats timeout 2m',
  ]);
}

function defaultsSection(profile: HostProfile): string {
  return section('defaults', [
    'mode http',
    // Without a log target in global, log settings only produce warnings.
    ...(profile.haproxy.logTarget ? ['log global'] : []),
    'option dontlognull',
    'option redispatch',
    'retries 3',
    'maxconn 4096',
    'timeout http-request 10s',
    'timeout queue 2m',
    'timeout connect 10s',
    'timeout client 2m',
    'timeout server 2m',
    'timeout check 10s',
    // A backend is taken out after 5 failed checks 2 s apart (10 s) and back after 2 good ones.
    'default-server inter 2s rise 2 fall 5',
  ]);
}

function serviceListen(spec: ClusterSpec, service: ResolvedService, profile: HostProfile): string {
  const bindAddress = profile.haproxy.bindAddressOverride ?? service.vip;
  if (bindAddress === undefined) throw new Error(`Service ${service.name} has no VIP; validate the spec first`);
  const t = service.timeouts;
  return section(`listen ${service.name}`, [
    bindLine(bindAddress, service.port),
    'mode http',
    ...(profile.haproxy.logTarget ? ['option httplog'] : []),
    'option forwardfor',
    `balance ${service.balance}`,
    `option httpchk GET ${service.healthCheckPath}`,
    ...(t.connect ? [`timeout connect ${t.connect}`] : []),
    ...(t.client ? [`timeout client ${t.client}`] : []),
    ...(t.server ? [`timeout server ${t.server}`] : []),
    ...(t.tunnel ? [`timeout tunnel ${t.tunnel}`] : []),
    // Active/Passive: the first node serves, the others stand by as backups.
    ...spec.topology.nodes.map((n, i) => {
      const backup = spec.topology.mode === 'ACTIVE_PASSIVE' && i > 0 ? ' backup' : '';
      return `server ${n.name} ${endpoint(n.internalAddress, service.backendPort)} check${backup}`;
    }),
  ]);
}

/**
 * One writer, the others backups: Galera is multi-master but concurrent writes to several nodes
 * cause certification conflicts (deadlocks for the applications). Every node's HAProxy names the
 * same writer (the first node), so writes go to one place whichever VIP owner serves them.
 */
function galeraListen(spec: ClusterSpec, profile: HostProfile): string {
  const g = resolveGaleraFrontend(spec);
  const bindAddress = profile.haproxy.bindAddressOverride ?? g.vip;
  if (bindAddress === undefined) throw new Error('The galera frontend has no VIP; validate the spec first');
  return section('listen galera', [
    bindLine(bindAddress, g.port),
    'mode tcp',
    ...(profile.haproxy.logTarget ? ['option tcplog'] : []),
    'option tcpka',
    'option httpchk',
    // Long-lived pooled connections of the OpenStack services must not be cut by idle timeouts.
    'timeout client 90m',
    'timeout server 90m',
    // The agent's clustercheck answers 200 only when the node is Synced.
    `default-server port ${g.clustercheckPort} inter 2s rise 2 fall 5 on-marked-down shutdown-sessions`,
    ...spec.topology.nodes.map(
      (n, i) => `server ${n.name} ${endpoint(n.internalAddress, spec.galera.port)} check${i === 0 ? '' : ' backup'}`,
    ),
  ]);
}

export function renderHaproxyCfg(
  spec: ClusterSpec,
  nodeName: string,
  profile: HostProfile = DEFAULT_HOST_PROFILE,
): Artifact {
  findNode(spec, nodeName);
  const parts = [
    renderedByTriad(spec, nodeName, '#'),
    globalSection(profile),
    defaultsSection(profile),
    ...resolveServices(spec).map((s) => serviceListen(spec, s, profile)),
    galeraListen(spec, profile),
  ];
  return artifact('haproxy.cfg', parts.join('\n'));
}
