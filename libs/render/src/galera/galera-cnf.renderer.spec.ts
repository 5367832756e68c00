import { labClusterSpec } from '@triad/testing';
import { sha256Hex } from '../artifact';
import { DEFAULT_HOST_PROFILE } from '../host-profile';
import { UnknownNodeError } from '../node-lookup';
import { renderGaleraCnf } from './galera-cnf.renderer';

const ADDRESSES = ['172.16.2.11', '172.16.2.12', '172.16.2.13'];

/** Option values of a group, the way MariaDB reads them (one `key = value` a line). */
function options(cnf: string, group: string): Record<string, string> {
  const out: Record<string, string> = {};
  let current = '';
  for (const line of cnf.split('\n')) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header) current = header[1];
    else if (current === group && line.includes(' = ')) {
      const [k, ...v] = line.split(' = ');
      out[k] = v.join(' = ');
    }
  }
  return out;
}

describe(renderGaleraCnf.name, () => {
  const spec = labClusterSpec({ addresses: ADDRESSES, galera: { clusterName: 'seed-galera' } });

  it('is the same bytes and digest every time', () => {
    const a = renderGaleraCnf(spec, 'controller-2');
    const b = renderGaleraCnf(structuredClone(spec), 'controller-2');
    expect(a.content).toBe(b.content);
    expect(a.sha256).toBe(sha256Hex(a.content));
    expect(a.name).toBe('galera.cnf');
  });

  it('lists every node in the cluster address and binds only the node’s own internal address', () => {
    const g = options(renderGaleraCnf(spec, 'controller-2').content, 'galera');
    expect(g.wsrep_cluster_address).toBe('gcomm://172.16.2.11:4567,172.16.2.12:4567,172.16.2.13:4567');
    expect(g.wsrep_node_name).toBe('controller-2');
    expect(g.wsrep_node_address).toBe('172.16.2.12');
    expect(g.wsrep_sst_receive_address).toBe('172.16.2.12:4444');
    expect(g.wsrep_provider_options).toBe('"gmcast.listen_addr=tcp://172.16.2.12:4567;ist.recv_addr=172.16.2.12:4568;gcache.size=512M"');
    expect(g.wsrep_cluster_name).toBe('seed-galera');
    expect(options(renderGaleraCnf(spec, 'controller-2').content, 'mysqld')['bind-address']).toBe('172.16.2.12');
  });

  it('sets what Galera requires and the TripleO defaults', () => {
    const m = options(renderGaleraCnf(spec, 'controller-1').content, 'mysqld');
    expect(m).toMatchObject({
      port: '3306',
      binlog_format: 'ROW',
      default_storage_engine: 'InnoDB',
      innodb_autoinc_lock_mode: '2',
      innodb_flush_log_at_trx_commit: '2',
      max_connections: '4096',
      datadir: '/var/lib/mysql',
      socket: '/run/mysqld/mysqld.sock',
    });
    const g = options(renderGaleraCnf(spec, 'controller-1').content, 'galera');
    expect(g).toMatchObject({ wsrep_on: 'ON', wsrep_provider: '/usr/lib/galera/libgalera_smm.so', wsrep_sst_method: 'rsync', wsrep_slave_threads: '4' });
  });

  it('renders group-membership timeouts only when the spec sets them', () => {
    const tuned = labClusterSpec({ addresses: ADDRESSES, galera: { evs: { suspectTimeoutMs: 3500, inactiveTimeoutMs: 7000 } } });
    expect(renderGaleraCnf(tuned, 'controller-1').content).toContain(';evs.suspect_timeout=PT3.5S;evs.inactive_timeout=PT7S"');
    expect(renderGaleraCnf(spec, 'controller-1').content).not.toContain('evs.');
  });

  it('leaves out group-membership timeouts Galera would refuse to start with', () => {
    expect(() => labClusterSpec({ addresses: ADDRESSES, galera: { evs: { suspectTimeoutMs: 2000 } } })).toThrow(/galera\.evs\.suspectTimeoutMs/);
    expect(() => labClusterSpec({ addresses: ADDRESSES, galera: { evs: { inactiveTimeoutMs: 1000 } } })).toThrow(/galera\.evs\.inactiveTimeoutMs/);
  });

  it('brackets IPv6 addresses where Galera parses host:port', () => {
    const v6 = labClusterSpec({ addresses: ['fd00::11', 'fd00::12', 'fd00::13'] });
    const g = options(renderGaleraCnf(v6, 'controller-1').content, 'galera');
    expect(g.wsrep_cluster_address).toBe('gcomm://[fd00::11]:4567,[fd00::12]:4567,[fd00::13]:4567');
    expect(g.wsrep_sst_receive_address).toBe('[fd00::11]:4444');
    expect(g.wsrep_provider_options).toContain('gmcast.listen_addr=tcp://[fd00::11]:4567;ist.recv_addr=[fd00::11]:4568');
  });

  it('never carries the SST password: mariabackup includes the credentials file the agent writes', () => {
    const mb = labClusterSpec({ addresses: ADDRESSES, galera: { sstMethod: 'mariabackup', sstPassword: { secretRef: 'galera-sst' } } });
    const cnf = renderGaleraCnf(mb, 'controller-1').content;
    expect(cnf).not.toMatch(/wsrep_sst_auth\s*=/);
    expect(cnf).not.toContain('galera-sst\n');
    expect(cnf).toContain(`\n!include ${DEFAULT_HOST_PROFILE.galera.sstAuthFile}\n`);
    expect(options(cnf, 'galera').wsrep_sst_method).toBe('mariabackup');
    expect(renderGaleraCnf(spec, 'controller-1').content).not.toContain('!include');
  });

  it('takes paths from the host profile, so the default-profile digest stays the revision’s', () => {
    const profile = { ...DEFAULT_HOST_PROFILE, galera: { ...DEFAULT_HOST_PROFILE.galera, dataDir: '/srv/db', socket: '/srv/db.sock', innodbBufferPoolSize: '64M' } };
    const local = renderGaleraCnf(spec, 'controller-1', profile);
    expect(options(local.content, 'mysqld')).toMatchObject({ datadir: '/srv/db', socket: '/srv/db.sock', innodb_buffer_pool_size: '64M' });
    expect(local.sha256).not.toBe(renderGaleraCnf(spec, 'controller-1').sha256);
  });

  it('refuses a node that is not in the spec', () => {
    expect(() => renderGaleraCnf(spec, 'controller-9')).toThrow(UnknownNodeError);
  });
});
