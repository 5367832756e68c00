import { resolveService, specVips } from './resolve';
import { validateClusterSpec } from './validate-cluster-spec';
import type { ClusterSpec } from './cluster-spec.schema';

function spec(services: unknown[], galera: Record<string, unknown> = {}): ClusterSpec {
  const nodes = [1, 2, 3].map((i) => ({ name: `c${i}`, managementAddress: `10.0.0.${i}`, internalAddress: `10.1.0.${i}` }));
  const { spec: parsed, problems } = validateClusterSpec({
    apiVersion: 'triad.io/v1',
    metadata: { name: 'r' },
    topology: {
      mode: 'ACTIVE_ACTIVE',
      nodes,
      networks: { public: { cidr: '10.2.0.0/24', vip: '10.2.0.5' }, internal: { cidr: '10.1.0.0/24', vip: '10.1.0.100', nic: 'eth1' } },
    },
    services,
    galera,
    rabbitmq: { erlangCookie: { secretRef: 'c' } },
    pacemaker: { properties: { stonithEnabled: false } },
    acknowledgedWarnings: ['STONITH_DISABLED'],
  });
  if (!parsed) throw new Error(JSON.stringify(problems));
  return parsed;
}

describe(resolveService.name, () => {
  it('merges spec overrides over the catalogue entry', () => {
    const s = spec([{ name: 'glance-api', port: 19292, timeouts: { server: '30m' } }]);
    expect(resolveService(s, s.services[0])).toEqual({
      name: 'glance-api',
      vip: '10.2.0.5',
      sharedVip: true,
      network: 'public',
      port: 19292,
      backendPort: 19292,
      healthCheckPath: '/healthcheck',
      balance: 'leastconn',
      timeouts: { client: '10m', server: '30m' },
    });
  });
});

describe(specVips.name, () => {
  it('makes one VIP resource per distinct address, named after the service or the shared network', () => {
    const s = spec([{ name: 'keystone', vip: '10.2.0.10' }, { name: 'nova-api' }, { name: 'placement' }]);
    expect(specVips(s)).toEqual([
      { id: 'vip-keystone', address: '10.2.0.10', network: 'public', cidrNetmask: 24, nic: undefined, frontends: ['keystone'] },
      { id: 'vip-public', address: '10.2.0.5', network: 'public', cidrNetmask: 24, nic: undefined, frontends: ['nova-api'] },
      { id: 'vip-internal', address: '10.1.0.100', network: 'internal', cidrNetmask: 24, nic: 'eth1', frontends: ['placement', 'galera'] },
    ]);
  });
});
