import type { ClusterSpec } from '@triad/spec';
import { artifact, type Artifact } from '../artifact';
import { DEFAULT_HOST_PROFILE, type HostProfile } from '../host-profile';
import { findNode, renderedByTriad } from '../node-lookup';

/** Galera's fixed ports (the spec's node-ports rule reserves them on every node). */
export const GALERA_REPLICATION_PORT = 4567;
export const GALERA_IST_PORT = 4568;
export const GALERA_SST_PORT = 4444;

/** `host:port`, with the brackets gcomm:// and the SST/IST addresses need for IPv6. */
function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Galera reads its timeouts as ISO 8601 durations. */
function isoDuration(ms: number): string {
  return `PT${ms / 1000}S`;
}

function group(name: string, options: [string, string | number][]): string {
  return [`[${name}]`, ...options.map(([k, v]) => `${k} = ${v}`)].join('\n') + '\n';
}

/**
 * galera.cnf for one node, as MariaDB 10.11 reads it: `[mysqld]` for the server, `[galera]` for
 * wsrep (read only by a server built with wsrep). Every node lists every node in
 * wsrep_cluster_address, so any of them can rejoin through any other.
 *
 * The SST password is never rendered: with mariabackup the file `!include`s the host profile's
 * sstAuthFile, which the agent writes from `galera.sstPassword` (a secret reference). MariaDB
 * skips a missing include, so the file is valid before the credentials arrive.
 */
export function renderGaleraCnf(spec: ClusterSpec, nodeName: string, profile: HostProfile = DEFAULT_HOST_PROFILE): Artifact {
  const node = findNode(spec, nodeName);
  const g = spec.galera;
  const p = profile.galera;
  const address = node.internalAddress;

  const providerOptions = [
    `gmcast.listen_addr=tcp://${hostPort(address, GALERA_REPLICATION_PORT)}`,
    `ist.recv_addr=${hostPort(address, GALERA_IST_PORT)}`,
    `gcache.size=${g.gcacheSize}`,
    ...(g.evs?.suspectTimeoutMs !== undefined ? [`evs.suspect_timeout=${isoDuration(g.evs.suspectTimeoutMs)}`] : []),
    ...(g.evs?.inactiveTimeoutMs !== undefined ? [`evs.inactive_timeout=${isoDuration(g.evs.inactiveTimeoutMs)}`] : []),
  ];

  const mysqld = group('mysqld', [
    ['bind-address', address],
    ['port', g.port],
    ['datadir', p.dataDir],
    ['socket', p.socket],
    ['pid-file', p.pidFile],
    ['log-error', p.logFile],
    ['max_connections', g.maxConnections],
    // Galera replicates row events only, and needs InnoDB with interleaved auto-increment locks.
    ['binlog_format', 'ROW'],
    ['default_storage_engine', 'InnoDB'],
    ['innodb_autoinc_lock_mode', 2],
    ['innodb_flush_log_at_trx_commit', g.innodbFlushLogAtTrxCommit],
    ...(p.innodbBufferPoolSize !== undefined ? [['innodb_buffer_pool_size', p.innodbBufferPoolSize] as [string, string]] : []),
  ]);

  const galera = group('galera', [
    ['wsrep_on', 'ON'],
    ['wsrep_provider', p.providerPath],
    ['wsrep_cluster_name', g.clusterName],
    ['wsrep_cluster_address', `gcomm://${spec.topology.nodes.map((n) => hostPort(n.internalAddress, GALERA_REPLICATION_PORT)).join(',')}`],
    ['wsrep_node_name', node.name],
    ['wsrep_node_address', address.includes(':') ? `[${address}]` : address],
    ['wsrep_sst_method', g.sstMethod],
    ['wsrep_sst_receive_address', hostPort(address, GALERA_SST_PORT)],
    ['wsrep_provider_options', `"${providerOptions.join(';')}"`],
    ['wsrep_slave_threads', g.slaveThreads],
  ]);

  const sstAuth = g.sstMethod === 'mariabackup' ? `\n# wsrep_sst_auth, written by the Triad agent from a secret reference.\n!include ${p.sstAuthFile}\n` : '';

  return artifact('galera.cnf', `${renderedByTriad(spec, nodeName, '#')}\n${mysqld}\n${galera}${sstAuth}`);
}
