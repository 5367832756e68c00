import { child, childrenNamed, canonicalXml, descendants, type XmlElement } from './xml-tree';

/** A CIB's version: Pacemaker bumps `epoch` on every configuration change, `num_updates` on status changes. */
export interface CibVersion {
  adminEpoch: number;
  epoch: number;
  numUpdates: number;
}

export function cibVersion(cib: XmlElement): CibVersion {
  const n = (name: string) => Number(cib.attrs[name] ?? '0');
  return { adminEpoch: n('admin_epoch'), epoch: n('epoch'), numUpdates: n('num_updates') };
}

/** `admin_epoch.epoch.num_updates`, as Pacemaker prints it. */
export function formatCibVersion(v: CibVersion): string {
  return `${v.adminEpoch}.${v.epoch}.${v.numUpdates}`;
}

/** Same configuration version: only status (num_updates) may differ. */
export function sameConfigurationVersion(a: CibVersion, b: CibVersion): boolean {
  return a.adminEpoch === b.adminEpoch && a.epoch === b.epoch;
}

/**
 * Cluster options Pacemaker itself writes into `cib-bootstrap-options` (the same set the renderer
 * fills): dropping them would make the DC write them back, changing the configuration after every push.
 */
const CLUSTER_OWNED_PROPERTIES = new Set(['dc-version', 'cluster-infrastructure', 'have-watchdog', 'last-lrm-refresh']);
/** Node attributes the renderer decides; every other permanent node attribute (standby, ones resource agents keep) stays. */
const RENDERED_NODE_ATTRIBUTES = new Set(['maintenance']);
/** `crm_resource --move/--ban` constraints: an operator's deliberate, temporary placement. */
const OPERATOR_CONSTRAINT_PREFIX = 'cli-';

export function configurationOf(cib: XmlElement): XmlElement {
  const configuration = child(cib, 'configuration');
  if (!configuration) throw new Error('the CIB has no <configuration> section');
  return configuration;
}

function clone(el: XmlElement): XmlElement {
  return { ...el, attrs: { ...el.attrs }, children: el.children.map(clone) };
}

function mergeClusterOwnedProperties(desired: XmlElement, live: XmlElement): void {
  const liveSet = childrenNamed(child(live, 'crm_config'), 'cluster_property_set').find((s) => s.attrs.id === 'cib-bootstrap-options');
  const owned = childrenNamed(liveSet, 'nvpair').filter((p) => CLUSTER_OWNED_PROPERTIES.has(p.attrs.name ?? ''));
  if (owned.length === 0) return;
  let crmConfig = child(desired, 'crm_config');
  if (!crmConfig) {
    crmConfig = { name: 'crm_config', attrs: {}, children: [] };
    desired.children.unshift(crmConfig);
  }
  let set = childrenNamed(crmConfig, 'cluster_property_set').find((s) => s.attrs.id === 'cib-bootstrap-options');
  if (!set) {
    set = { name: 'cluster_property_set', attrs: { id: 'cib-bootstrap-options' }, children: [] };
    crmConfig.children.unshift(set);
  }
  const named = new Set(childrenNamed(set, 'nvpair').map((p) => p.attrs.name));
  set.children.push(...owned.filter((p) => !named.has(p.attrs.name)).map(clone));
}

function mergeNodeAttributes(desired: XmlElement, live: XmlElement): void {
  const desiredNodes = childrenNamed(child(desired, 'nodes'), 'node');
  for (const liveNode of childrenNamed(child(live, 'nodes'), 'node')) {
    const node = desiredNodes.find((n) => n.attrs.id === liveNode.attrs.id && n.attrs.uname === liveNode.attrs.uname);
    if (!node) continue; // a node the spec no longer has
    for (const liveSet of liveNode.children.filter((c) => c.name === 'instance_attributes' || c.name === 'utilization')) {
      const kept = childrenNamed(liveSet, 'nvpair').filter((p) => liveSet.name !== 'instance_attributes' || !RENDERED_NODE_ATTRIBUTES.has(p.attrs.name ?? ''));
      if (kept.length === 0) continue;
      let set = node.children.find((c) => c.name === liveSet.name && c.attrs.id === liveSet.attrs.id);
      if (!set) {
        set = { ...liveSet, attrs: { ...liveSet.attrs }, children: [] };
        node.children.push(set);
      }
      const named = new Set(childrenNamed(set, 'nvpair').map((p) => p.attrs.name));
      set.children.push(...kept.filter((p) => !named.has(p.attrs.name)).map(clone));
    }
  }
}

function mergeOperatorConstraints(desired: XmlElement, live: XmlElement): void {
  const operator = (child(live, 'constraints')?.children ?? []).filter((c) => c.attrs.id?.startsWith(OPERATOR_CONSTRAINT_PREFIX));
  if (operator.length === 0) return;
  let constraints = child(desired, 'constraints');
  if (!constraints) {
    constraints = { name: 'constraints', attrs: {}, children: [] };
    desired.children.push(constraints);
  }
  const ids = new Set(constraints.children.map((c) => c.attrs.id));
  constraints.children.push(...operator.filter((c) => !ids.has(c.attrs.id)).map(clone));
}

/**
 * The configuration to push: the rendered one, plus what the cluster owns in the live one
 * (Pacemaker's own cluster options, permanent node attributes other than those the spec decides,
 * an operator's `crm_resource --move/--ban` constraints).
 */
export function desiredConfiguration(live: XmlElement, rendered: XmlElement): XmlElement {
  const desired = clone(configurationOf(rendered));
  const liveConfiguration = configurationOf(live);
  mergeClusterOwnedProperties(desired, liveConfiguration);
  mergeNodeAttributes(desired, liveConfiguration);
  mergeOperatorConstraints(desired, liveConfiguration);
  return desired;
}

/**
 * The whole CIB to diff against the live one: the live header (epoch + 1, so the patch moves the
 * version forward), `configuration`, and the live `status` untouched.
 */
export function cibWithConfiguration(live: XmlElement, configuration: XmlElement): XmlElement {
  const v = cibVersion(live);
  return {
    ...live,
    attrs: { ...live.attrs, epoch: String(v.epoch + 1), num_updates: '0' },
    children: live.children.map((c) => (c.name === 'configuration' ? configuration : c)),
  };
}

export function configurationsEqual(a: XmlElement, b: XmlElement): boolean {
  return canonicalXml(a) === canonicalXml(b);
}

function stoppedByMeta(el: XmlElement): boolean {
  return childrenNamed(el, 'meta_attributes').some((set) =>
    childrenNamed(set, 'nvpair').some((p) => p.attrs.name === 'target-role' && p.attrs.value?.toLowerCase() === 'stopped'),
  );
}

const RESOURCE_TAGS = new Set(['primitive', 'group', 'clone', 'master', 'bundle']);

/** Every resource id the configuration defines (primitives and the groups/clones holding them). */
export function configuredResourceIds(configuration: XmlElement): string[] {
  const resources = child(configuration, 'resources');
  return resources ? descendants(resources).filter((e) => RESOURCE_TAGS.has(e.name) && e.attrs.id).map((e) => e.attrs.id as string) : [];
}

/** Primitives the cluster is asked to run: not stopped by `target-role` on themselves or a parent. */
export function primitivesToRun(configuration: XmlElement): string[] {
  const out: string[] = [];
  const walk = (el: XmlElement, stopped: boolean): void => {
    for (const c of el.children.filter((x) => RESOURCE_TAGS.has(x.name))) {
      const s = stopped || stoppedByMeta(c);
      if (c.name === 'primitive') {
        if (!s && c.attrs.id) out.push(c.attrs.id);
      } else walk(c, s);
    }
  };
  const resources = child(configuration, 'resources');
  if (resources) walk(resources, false);
  return out;
}
