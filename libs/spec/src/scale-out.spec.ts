import type { ClusterSpec } from './cluster-spec.schema';
import { specWithNewNode } from './scale-out';
import { validateClusterSpec } from './validate-cluster-spec';

/** Three nodes; `separate` gives them a management network of their own (192.168.24.0/24). */
function threeNodes(separate: boolean): ClusterSpec {
  const { spec, problems } = validateClusterSpec({
    apiVersion: 'triad.io/v1',
    metadata: { name: 'lab' },
    topology: {
      mode: 'ACTIVE_ACTIVE',
      nodes: [1, 2, 3].map((i) => ({ name: `controller-${i}`, managementAddress: separate ? `192.168.24.1${i}` : `172.16.2.1${i}`, internalAddress: `172.16.2.1${i}` })),
      networks: { public: { cidr: '10.20.0.0/24' }, internal: { cidr: '172.16.2.0/24', vip: '172.16.2.99' } },
    },
    services: [{ name: 'keystone', vip: '172.16.2.110', network: 'internal' }],
    galera: { vip: '172.16.2.100' },
    rabbitmq: { erlangCookie: { secretRef: 'cookie' } },
    pacemaker: { properties: { stonithEnabled: false } },
    acknowledgedWarnings: ['STONITH_DISABLED'],
  });
  if (!spec) throw new Error(JSON.stringify(problems));
  return spec;
}

describe(specWithNewNode.name, () => {
  it('appends the node with the one address inside the internal network, for both roles when the nodes use one address', () => {
    const placed = specWithNewNode(threeNodes(false), 'controller-4', ['10.99.0.4', '172.16.2.14', 'fe80::1']);
    expect(placed).toMatchObject({ node: { name: 'controller-4', managementAddress: '172.16.2.14', internalAddress: '172.16.2.14' } });
    if (!('spec' in placed)) throw new Error('expected a spec');
    expect(placed.spec.topology.nodes.map((n) => n.name)).toEqual(['controller-1', 'controller-2', 'controller-3', 'controller-4']);
  });

  it('takes the management address from the network the other nodes manage through', () => {
    const placed = specWithNewNode(threeNodes(true), 'controller-4', ['172.16.2.14', '192.168.24.14', '10.0.0.7']);
    expect(placed).toMatchObject({ node: { managementAddress: '192.168.24.14', internalAddress: '172.16.2.14' } });
  });

  it('ignores VIPs and other nodes\' addresses the agent reports (a node that held a VIP), and refuses when nothing is left', () => {
    expect(specWithNewNode(threeNodes(false), 'controller-4', ['172.16.2.110', '172.16.2.100', '172.16.2.99', '172.16.2.14'])).toMatchObject({ node: { internalAddress: '172.16.2.14' } });
    expect(specWithNewNode(threeNodes(false), 'controller-4', ['172.16.2.11', '172.16.2.110'])).toEqual({
      refusal: "none of the node's addresses (172.16.2.11, 172.16.2.110) is a free address in the internal network 172.16.2.0/24",
    });
  });

  it('refuses an ambiguous node (two free internal addresses) and one without a management address', () => {
    expect(specWithNewNode(threeNodes(false), 'controller-4', ['172.16.2.14', '172.16.2.15'])).toEqual({
      refusal: 'the node has several free addresses in the internal network 172.16.2.0/24 (172.16.2.14, 172.16.2.15); enroll it after adding it to the spec yourself',
    });
    expect(specWithNewNode(threeNodes(true), 'controller-4', ['172.16.2.14', '10.0.0.7'])).toEqual({
      refusal: "none of the node's addresses (172.16.2.14, 10.0.0.7) is a free address in the management network 192.168.24.0/24",
    });
  });

  it('refuses a name the spec already has', () => {
    expect(specWithNewNode(threeNodes(false), 'controller-2', ['172.16.2.14'])).toEqual({ refusal: 'node "controller-2" is already in the spec' });
  });
});
