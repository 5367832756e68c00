import { placementProblems, simulationCib, cibVipIds } from './what-if';

const CIB = `<?xml version="1.0" encoding="UTF-8"?>
<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config/>
    <nodes>
      <node id="1" uname="ctl-a"/>
      <node id="2" uname="ctl-b"/>
    </nodes>
    <resources>
      <primitive id="vip-public" class="ocf" provider="heartbeat" type="IPaddr2"/>
      <primitive id="other" class="ocf" provider="heartbeat" type="Dummy"/>
    </resources>
    <constraints/>
  </configuration>
</cib>`;

describe(simulationCib.name, () => {
  it('adds quorum and an online member node_state with a Galera promotion score for every node', () => {
    const sim = simulationCib(CIB, ['ctl-a', 'ctl-b']);
    expect(sim).toMatch(/<cib [^>]*have-quorum="1"[^>]*dc-uuid="1"/);
    expect(sim).toContain(
      '<node_state id="2" uname="ctl-b" in_ccm="true" crmd="online" join="member" expected="member">',
    );
    expect(sim).toContain('<nvpair id="status-2-master-galera" name="master-galera" value="100"/>');
  });

  it('clears cluster and node maintenance so the design can be placed', () => {
    const inMaintenance = CIB.replace(
      '<crm_config/>',
      '<crm_config><cluster_property_set id="o"><nvpair id="o-m" name="maintenance-mode" value="true"/></cluster_property_set></crm_config>',
    ).replace(
      '<node id="2" uname="ctl-b"/>',
      '<node id="2" uname="ctl-b"><instance_attributes id="n2"><nvpair id="n2-m" name="maintenance" value="true"/></instance_attributes></node>',
    );
    const sim = simulationCib(inMaintenance, ['ctl-a', 'ctl-b']);
    expect(sim).toContain('<nvpair id="o-m" name="maintenance-mode" value="false"/>');
    expect(sim).toContain('<nvpair id="n2-m" name="maintenance" value="false"/>');
  });

  it('replaces a status section the CIB already has', () => {
    const withStatus = CIB.replace('</cib>', '<status><node_state id="9" uname="gone"/></status></cib>');
    const sim = simulationCib(withStatus, ['ctl-a']);
    expect(sim).not.toContain('uname="gone"');
    expect(sim.match(/<status>/g)).toHaveLength(1);
  });
});

describe(cibVipIds.name, () => {
  it('finds the IPaddr2 resources', () => {
    expect(cibVipIds(CIB)).toEqual(['vip-public']);
  });
});

describe(placementProblems.name, () => {
  it('reports a VIP on a node without HAProxy and a Galera without a promoted node', () => {
    const problems = placementProblems(
      { vips: { 'vip-public': 'ctl-b' }, haproxyNodes: ['ctl-a'], galeraPromotedNodes: [] },
      'ctl-c',
    );
    expect(problems).toEqual([
      {
        code: 'VIP_WITHOUT_HAPROXY',
        lostNode: 'ctl-c',
        resource: 'vip-public',
        message: 'vip-public runs on ctl-b, where HAProxy does not run, after losing ctl-c.',
      },
      {
        code: 'GALERA_NOT_PROMOTED',
        lostNode: 'ctl-c',
        resource: 'galera-clone',
        message: 'No Galera node is promoted after losing ctl-c: the database takes no writes.',
      },
    ]);
  });
});
