import { labClusterSpec } from '@triad/testing';
import { specWithNewNode } from '@triad/spec';
import { renderNode } from './render-node';

/**
 * What a cluster's members are given when a fourth controller is appended to the spec
 * (docs/scale-out.md): every artifact names the newcomer, and nothing already there moves.
 */
describe('rendering a scale-out (a node appended to the spec)', () => {
  const addresses = ['127.0.9.1', '127.0.9.2', '127.0.9.3'];
  const three = labClusterSpec({ addresses, acknowledgedWarnings: ['EVEN_GALERA_MEMBERSHIP'] });
  const placed = specWithNewNode(three, 'controller-4', ['127.0.9.4']);
  if (!('spec' in placed)) throw new Error(placed.refusal);
  const four = placed.spec;
  const artifact = (spec: typeof three, node: string, name: string) => renderNode(spec, node).find((a) => a.name === name)?.content ?? '';

  it('corosync.conf: the new node gets the next nodeid and the members keep theirs (corosync-cfgtool -R refuses a changed nodeid)', () => {
    const before = artifact(three, 'controller-1', 'corosync.conf');
    const after = artifact(four, 'controller-1', 'corosync.conf');
    for (const [i, address] of addresses.entries()) {
      const block = new RegExp(`ring0_addr: ${address.replace(/\./g, '\\.')}\\s+name: controller-${i + 1}\\s+nodeid: ${i + 1}`);
      expect(before).toMatch(block);
      expect(after).toMatch(block);
    }
    expect(after).toMatch(/ring0_addr: 127\.0\.9\.4\s+name: controller-4\s+nodeid: 4/);
    // The same nodelist on every node, the newcomer included.
    const nodelist = (conf: string) => /nodelist \{[\s\S]*?\n\}/.exec(conf)?.[0];
    expect(nodelist(artifact(four, 'controller-4', 'corosync.conf'))).toBe(nodelist(after));
  });

  it('cib.xml: Galera promoted on four, its gcomm list and host map name controller-4', () => {
    const cib = artifact(four, 'controller-1', 'cib.xml');
    expect(cib).toMatch(/name="promoted-max" value="4"/);
    expect(cib).toMatch(/name="wsrep_cluster_address" value="gcomm:\/\/127\.0\.9\.1,127\.0\.9\.2,127\.0\.9\.3,127\.0\.9\.4"/);
    expect(cib).toMatch(/name="cluster_host_map" value="[^"]*;controller-4:127\.0\.9\.4"/);
    // No clone-max: clones run one instance per node, so the new node gets its own by itself.
    expect(cib).not.toMatch(/clone-max/);
  });

  it("haproxy.cfg: every member's backends gain controller-4, the existing servers unchanged", () => {
    for (const node of ['controller-1', 'controller-4']) {
      const before = artifact(three, node === 'controller-4' ? 'controller-1' : node, 'haproxy.cfg');
      const after = artifact(four, node, 'haproxy.cfg');
      const servers = (cfg: string) => cfg.split('\n').filter((l) => l.trim().startsWith('server '));
      expect(servers(after).filter((l) => l.includes('controller-4')).length).toBeGreaterThan(0);
      expect(servers(after).filter((l) => !l.includes('controller-4'))).toEqual(servers(before));
    }
  });

  it('galera.cnf and rabbitmq.conf: the members list the newcomer as a peer, so it can join through any of them', () => {
    expect(artifact(four, 'controller-2', 'galera.cnf')).toMatch(/wsrep_cluster_address\s*=\s*"?gcomm:\/\/[^\n]*127\.0\.9\.4/);
    expect(artifact(four, 'controller-2', 'rabbitmq.conf')).toMatch(/cluster_formation\.classic_config\.nodes\.4 = rabbit@controller-4/);
  });
});
