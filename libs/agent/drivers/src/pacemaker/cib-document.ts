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

/**
 * Resource-agent parameters an agent reads only when it starts an instance, by agent
 * (`class:provider:type`). A running instance never acts on them again, so a change of these alone
 * need not restart it — but the agent has no reload, so Pacemaker would (its parameter digest
 * changed). Kept narrow on purpose: a parameter belongs here only when the agent's code shows it is
 * used at start (and at most checked by monitor in a way the new value still passes).
 * - ocf:heartbeat:galera: the membership. `wsrep_cluster_address` is handed to mysqld at
 *   start/promote (`--wsrep-cluster-address`); monitor only checks that this node is still listed.
 *   `cluster_host_map` maps Pacemaker names to those addresses for the same purposes. A running
 *   Galera member learns new members through gcomm itself.
 */
export const START_ONLY_PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  'ocf:heartbeat:galera': ['wsrep_cluster_address', 'cluster_host_map'],
};

/** The id suffix of the `is-managed=false` meta attribute the driver adds while it holds a resource. */
export const HOLD_ID_SUFFIX = '-triad-start-only-hold';

function agentOf(primitive: XmlElement): string {
  const a = primitive.attrs;
  return [a.class, a.provider, a.type].filter((x) => x !== undefined).join(':');
}

/** The primitive without the instance attributes its agent reads only at start. */
function withoutStartOnly(primitive: XmlElement, table: Readonly<Record<string, readonly string[]>>): XmlElement {
  const names = new Set(table[agentOf(primitive)] ?? []);
  return {
    ...primitive,
    children: primitive.children.map((c) => (c.name === 'instance_attributes' ? { ...c, children: c.children.filter((p) => !(p.name === 'nvpair' && names.has(p.attrs.name ?? ''))) } : c)),
  };
}

/** The resources directly under `<resources>` (primitives, groups, clones), by id. */
function topResources(configuration: XmlElement): Map<string, XmlElement> {
  return new Map((child(configuration, 'resources')?.children ?? []).filter((c) => RESOURCE_TAGS.has(c.name) && c.attrs.id).map((c) => [c.attrs.id as string, c]));
}

function primitivesIn(top: XmlElement): Map<string, XmlElement> {
  const all = top.name === 'primitive' ? [top] : descendants(top).filter((e) => e.name === 'primitive');
  return new Map(all.filter((p) => p.attrs.id).map((p) => [p.attrs.id as string, p]));
}

function metaNvpairs(el: XmlElement): XmlElement[] {
  return childrenNamed(el, 'meta_attributes').flatMap((s) => childrenNamed(s, 'nvpair'));
}

/** The resource's configuration sets `is-managed` itself (other than by a hold): it is not ours to hold. */
function managedByConfiguration(el: XmlElement): boolean {
  return metaNvpairs(el).some((p) => p.attrs.name === 'is-managed' && p.attrs.id !== `${el.attrs.id}${HOLD_ID_SUFFIX}`);
}

/**
 * Top-level resources (a clone, or a primitive on its own) whose primitives change between the
 * live and the desired configuration only in start-only parameters: each primitive present in
 * both, same agent, same everything else (operations, meta attributes, other parameters), and at
 * least one of them different. The resource's own attributes may change otherwise (a clone's
 * `promoted-max`): Pacemaker restarts nothing for those. A resource with any other primitive
 * change (a VIP's address, an added primitive) is not listed: it must restart as Pacemaker decides.
 */
export function startOnlyChanges(live: XmlElement, desired: XmlElement, table = START_ONLY_PARAMETERS): string[] {
  const liveTops = topResources(live);
  const out: string[] = [];
  for (const [id, top] of topResources(desired)) {
    const before = liveTops.get(id);
    if (!before || before.name !== top.name) continue;
    const now = primitivesIn(top);
    const was = primitivesIn(before);
    if (now.size !== was.size || [...now.keys()].some((p) => !was.has(p))) continue;
    const changed = [...now].filter(([p, el]) => canonicalXml(el) !== canonicalXml(was.get(p) as XmlElement));
    if (changed.length === 0) continue;
    if (changed.every(([p, el]) => canonicalXml(withoutStartOnly(el, table)) === canonicalXml(withoutStartOnly(was.get(p) as XmlElement, table)))) out.push(id);
  }
  return out;
}

/** Top-level resources a hold (this driver's `is-managed=false`) is on: an apply that did not finish. */
export function heldResources(configuration: XmlElement): string[] {
  return [...topResources(configuration)].filter(([, top]) => hasHold(top)).map(([id]) => id);
}

function hasHold(top: XmlElement): boolean {
  return metaNvpairs(top).some((p) => p.attrs.id === `${top.attrs.id}${HOLD_ID_SUFFIX}`);
}

/**
 * What to hold while pushing `desired` over `live`: the resources whose change is start-only, and
 * those a hold is still on (an apply that stopped between its steps: the refresh must still run
 * before the hold goes). Never a resource whose desired configuration sets `is-managed` itself.
 */
export function holdsFor(live: XmlElement, desired: XmlElement, table = START_ONLY_PARAMETERS): string[] {
  const tops = topResources(desired);
  return [...new Set([...startOnlyChanges(live, desired, table), ...heldResources(live)])].filter((id) => {
    const top = tops.get(id);
    return top !== undefined && !managedByConfiguration(top);
  });
}

/** The configuration with this driver's hold (`is-managed=false`, its own nvpair id) on each of `ids`. */
export function withHolds(configuration: XmlElement, ids: readonly string[]): XmlElement {
  const out = clone(configuration);
  for (const [id, top] of topResources(out)) {
    if (!ids.includes(id) || hasHold(top)) continue;
    let set = childrenNamed(top, 'meta_attributes')[0];
    if (!set) {
      set = { name: 'meta_attributes', attrs: { id: `${id}${HOLD_ID_SUFFIX}-set` }, children: [] };
      top.children.unshift(set);
    }
    set.children.push({ name: 'nvpair', attrs: { id: `${id}${HOLD_ID_SUFFIX}`, name: 'is-managed', value: 'false' }, children: [] });
  }
  return out;
}

/** The configuration without any hold: its nvpair removed (and the set made for it); nothing else touched. */
export function withoutHolds(configuration: XmlElement): XmlElement {
  const out = clone(configuration);
  for (const [id, top] of topResources(out)) {
    for (const s of childrenNamed(top, 'meta_attributes')) s.children = s.children.filter((p) => p.attrs.id !== `${id}${HOLD_ID_SUFFIX}`);
    top.children = top.children.filter((c) => !(c.name === 'meta_attributes' && c.attrs.id === `${id}${HOLD_ID_SUFFIX}-set` && c.children.length === 0));
  }
  return out;
}

/** Primitive ids inside the top-level resource `id` (what the status section's lrm history is keyed by). */
export function primitiveIdsOf(configuration: XmlElement, id: string): string[] {
  const top = topResources(configuration).get(id);
  return top ? [...primitivesIn(top).keys()] : [];
}
