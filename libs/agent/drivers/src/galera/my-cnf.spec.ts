import { galeraChangePlan, gcommMemberCount, myCnfServerOptions } from './my-cnf';

const base = [
  '# rendered by Triad',
  '[mysqld]',
  'bind-address = 10.0.0.1',
  'max_connections = 4096',
  '[galera]',
  'wsrep_cluster_address = gcomm://10.0.0.1:4567,10.0.0.2:4567,10.0.0.3:4567',
  'wsrep_provider_options = "gmcast.listen_addr=tcp://10.0.0.1:4567;gcache.size=512M"',
  'wsrep_slave_threads = 4',
  '[client]',
  'port = 3307',
  '',
].join('\n');

describe(myCnfServerOptions.name, () => {
  it('reads server groups only, unquotes values and treats - and _ alike', () => {
    const o = myCnfServerOptions(base);
    expect(o.get('bind_address')).toBe('10.0.0.1');
    expect(o.get('wsrep_provider_options')).toBe('gmcast.listen_addr=tcp://10.0.0.1:4567;gcache.size=512M');
    expect(o.has('port')).toBe(false);
  });
});

describe(galeraChangePlan.name, () => {
  it('needs nothing when only comments changed', () => {
    expect(galeraChangePlan(base, base.replace('# rendered by Triad', '# rendered by Triad, revision 7'))).toEqual({ kind: 'none' });
  });

  it('sets max_connections and slave threads at runtime instead of restarting', () => {
    const after = base.replace('max_connections = 4096', 'max_connections = 500').replace('wsrep_slave_threads = 4', 'wsrep_slave_threads = 8');
    expect(galeraChangePlan(base, after)).toEqual({ kind: 'set-global', variables: { max_connections: '500', wsrep_slave_threads: '8' } });
  });

  it('restarts for provider options or membership, even when a runtime option changed too', () => {
    const after = base.replace('gcache.size=512M', 'gcache.size=1G').replace('max_connections = 4096', 'max_connections = 500');
    expect(galeraChangePlan(base, after)).toEqual({ kind: 'restart', reason: 'changed options read only at start: wsrep_provider_options' });
    expect(galeraChangePlan(base, `${base}!include /etc/mysql/galera-sst-auth.cnf\n`).kind).toBe('restart');
  });
});

describe(gcommMemberCount.name, () => {
  it('counts the members of a gcomm address', () => {
    expect(gcommMemberCount('gcomm://a:4567,b:4567,c:4567?pc.wait_prim=no')).toBe(3);
    expect(gcommMemberCount('gcomm://')).toBe(0);
    expect(gcommMemberCount(undefined)).toBeUndefined();
  });
});
