import { cibWithConfiguration, configuredResourceIds, desiredConfiguration, primitivesToRun } from './cib-document';
import { canonicalXml, parseXml, serializeXml } from './xml-tree';

const live = parseXml(`<cib epoch="7" num_updates="42" admin_epoch="0" dc-uuid="2">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-cluster-name" name="cluster-name" value="old"/>
        <nvpair id="cib-bootstrap-options-dc-version" name="dc-version" value="2.1.5"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="controller-1">
        <instance_attributes id="nodes-1">
          <nvpair id="nodes-1-maintenance" name="maintenance" value="true"/>
          <nvpair id="nodes-1-standby" name="standby" value="on"/>
        </instance_attributes>
      </node>
      <node id="4" uname="controller-4"/>
    </nodes>
    <resources/>
    <constraints>
      <rsc_location id="cli-ban-vip-keystone-on-controller-1" rsc="vip-keystone" node="controller-1" score="-INFINITY"/>
      <rsc_location id="someone-elses" rsc="vip-keystone" node="controller-2" score="100"/>
    </constraints>
  </configuration>
  <status><node_state id="1" uname="controller-1"/></status>
</cib>`);

const rendered = parseXml(`<cib epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-cluster-name" name="cluster-name" value="new"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="controller-1"/>
    </nodes>
    <resources>
      <primitive id="vip-keystone" class="ocf" provider="heartbeat" type="IPaddr2"/>
      <clone id="haproxy-clone">
        <primitive id="haproxy" class="systemd" type="haproxy"/>
      </clone>
      <group id="parked">
        <meta_attributes id="parked-meta"><nvpair id="parked-meta-target-role" name="target-role" value="Stopped"/></meta_attributes>
        <primitive id="in-parked" class="ocf" provider="pacemaker" type="Dummy"/>
      </group>
    </resources>
    <constraints/>
  </configuration>
</cib>`);

describe(desiredConfiguration.name, () => {
  const desired = serializeXml(desiredConfiguration(live, rendered));

  it('takes the rendered configuration over the live one', () => {
    expect(desired).toContain('name="cluster-name" value="new"');
    expect(desired).toContain('<primitive id="vip-keystone"');
    expect(desired).not.toContain('controller-4');
    expect(desired).not.toContain('someone-elses');
  });

  it('keeps Pacemaker\'s own options, an operator\'s standby and crm_resource bans', () => {
    expect(desired).toContain('name="dc-version" value="2.1.5"');
    expect(desired).toContain('name="standby" value="on"');
    expect(desired).toContain('id="cli-ban-vip-keystone-on-controller-1"');
  });

  it('drops node maintenance the spec no longer asks for', () => {
    expect(desired).not.toContain('name="maintenance"');
  });
});

describe(cibWithConfiguration.name, () => {
  it('moves the epoch forward and keeps the live header and status', () => {
    const cib = cibWithConfiguration(live, desiredConfiguration(live, rendered));
    expect(cib.attrs).toMatchObject({ epoch: '8', num_updates: '0', admin_epoch: '0', 'dc-uuid': '2' });
    expect(canonicalXml(cib.children.find((c) => c.name === 'status') ?? live)).toBe('<status><node_state id="1" uname="controller-1"></node_state></status>');
  });
});

describe(primitivesToRun.name, () => {
  it('lists primitives not stopped by target-role on themselves or a parent', () => {
    const configuration = desiredConfiguration(live, rendered);
    expect(primitivesToRun(configuration)).toEqual(['vip-keystone', 'haproxy']);
    expect(configuredResourceIds(configuration)).toEqual(['vip-keystone', 'haproxy-clone', 'haproxy', 'parked', 'in-parked']);
  });
});
