import { renderCib } from '@triad/render';
import { specWithNewNode, type ClusterSpec } from '@triad/spec';
import { labClusterSpec } from '@triad/testing';
import {
  cibWithConfiguration,
  configurationOf,
  configuredResourceIds,
  desiredConfiguration,
  heldResources,
  holdsFor,
  HOLD_ID_SUFFIX,
  primitiveIdsOf,
  primitivesToRun,
  startOnlyChanges,
  withHolds,
  withoutHolds,
} from './cib-document';
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

describe('start-only parameter changes (the galera membership) and the hold', () => {
  const addresses = ['127.0.9.1', '127.0.9.2', '127.0.9.3'];
  const three = labClusterSpec({ addresses, acknowledgedWarnings: ['EVEN_GALERA_MEMBERSHIP'] });
  const placed = specWithNewNode(three, 'controller-4', ['127.0.9.4']);
  if (!('spec' in placed)) throw new Error(placed.refusal);
  const config = (spec: ClusterSpec) => configurationOf(parseXml(renderCib(spec, 'controller-1').content));
  const before = config(three);
  const after = config(placed.spec);

  it('a fourth node changes only galera-clone by start-only parameters (its promoted-max is a clone meta attribute)', () => {
    expect(startOnlyChanges(before, after)).toEqual(['galera-clone']);
    expect(holdsFor(before, after)).toEqual(['galera-clone']);
  });

  it('an unchanged configuration holds nothing', () => {
    expect(holdsFor(before, config(three))).toEqual([]);
  });

  it("a VIP's new address is not start-only: IPaddr2 must restart", () => {
    const moved = parseXml(serializeXml(before).replace('name="ip" value="127.0.0.100"', 'name="ip" value="127.0.0.99"'));
    expect(canonicalXml(moved)).not.toBe(canonicalXml(before));
    expect(startOnlyChanges(before, moved)).toEqual([]);
  });

  it('a galera change beyond the membership (another parameter, an operation) holds nothing', () => {
    const edit = (from: string, to: string) => parseXml(serializeXml(after).replace(from, to));
    expect(startOnlyChanges(before, edit('name="enable_creation" value="true"', 'name="enable_creation" value="false"'))).toEqual([]);
    expect(startOnlyChanges(before, edit('interval="20s" timeout="30s"', 'interval="30s" timeout="30s"'))).toEqual([]);
    // The same table entry only for that agent: another agent's parameter of the same name is not start-only.
    expect(startOnlyChanges(before, after, {})).toEqual([]);
  });

  it('the hold is an is-managed=false meta attribute of its own, removed without a trace', () => {
    const held = withHolds(after, ['galera-clone']);
    const text = serializeXml(held);
    expect(text).toContain(`<nvpair id="galera-clone${HOLD_ID_SUFFIX}" name="is-managed" value="false"/>`);
    expect(heldResources(held)).toEqual(['galera-clone']);
    expect(canonicalXml(withoutHolds(held))).toBe(canonicalXml(after));
    // Idempotent, and on a resource without meta attributes too.
    expect(canonicalXml(withHolds(held, ['galera-clone']))).toBe(canonicalXml(held));
    const bare = parseXml('<configuration><resources><primitive id="dummy" class="ocf" provider="pacemaker" type="Dummy"/></resources></configuration>');
    const dummy = withHolds(bare, ['dummy']);
    expect(heldResources(dummy)).toEqual(['dummy']);
    expect(canonicalXml(withoutHolds(dummy))).toBe(canonicalXml(bare));
  });

  it('a hold left in the live CIB (an apply that stopped half way) is held again until released, even with nothing else to change', () => {
    const leftOver = withHolds(after, ['galera-clone']);
    expect(startOnlyChanges(leftOver, after)).toEqual([]);
    expect(holdsFor(leftOver, after)).toEqual(['galera-clone']);
    // Going back to three members from a half-done hold: held again.
    expect(holdsFor(leftOver, before)).toEqual(['galera-clone']);
  });

  it('never holds a resource whose configuration sets is-managed itself', () => {
    const own = parseXml(serializeXml(after).replace('<nvpair id="galera-clone-meta_attributes-notify"', '<nvpair id="galera-clone-own" name="is-managed" value="true"/><nvpair id="galera-clone-meta_attributes-notify"'));
    expect(holdsFor(before, own)).toEqual([]);
  });

  it('lists the primitives of a held resource (what the probes are keyed by)', () => {
    expect(primitiveIdsOf(after, 'galera-clone')).toEqual(['galera']);
    expect(primitiveIdsOf(after, 'vip-internal')).toEqual(['vip-internal']);
  });
});
