import type { Element } from '@oozcitak/dom/lib/dom/interfaces';
import { create } from 'xmlbuilder2';
import { CIB_IDS } from './cib-ids';

/**
 * What-if analysis of a rendered CIB, as pure functions over XML text. The runner
 * (what-if.runner.ts) feeds them crm_simulate's output.
 */

/** Where resources run in one simulated cluster state. */
export interface Placement {
  /** VIP resource id → node it runs on, or null when it is stopped. */
  vips: Record<string, string | null>;
  haproxyNodes: string[];
  galeraPromotedNodes: string[];
}

export interface WhatIfProblem {
  code: 'VIP_WITHOUT_HOME' | 'VIP_WITHOUT_HAPROXY' | 'GALERA_NOT_PROMOTED';
  /** The node whose loss was simulated; undefined for the healthy cluster. */
  lostNode?: string;
  resource: string;
  message: string;
}

export interface WhatIfReport {
  /** All nodes up. */
  placement: Placement;
  /** One entry per node: where everything goes when that node is lost. */
  losses: { lostNode: string; placement: Placement }[];
  problems: WhatIfProblem[];
}

function parseXml(xml: string): Element {
  return create(xml).root().node as Element;
}

function descendants(parent: Element, tag: string): Element[] {
  const list = parent.getElementsByTagName(tag);
  const out: Element[] = [];
  for (let i = 0; i < list.length; i++) {
    const el = list.item(i);
    if (el) out.push(el);
  }
  return out;
}

function childElements(parent: Element, tag: string): Element[] {
  return descendants(parent, tag).filter((el) => el.parentNode === parent);
}

/** VIP resource ids: every IPaddr2 primitive of the CIB. */
export function cibVipIds(cibXml: string): string[] {
  return descendants(parseXml(cibXml), 'primitive')
    .filter((p) => p.getAttribute('type') === 'IPaddr2')
    .map((p) => p.getAttribute('id') ?? '')
    .sort();
}

/**
 * The CIB with a status section in which every given node is online and a cluster member with
 * quorum. Each node carries a `master-galera` promotion score, as the galera agent sets it once
 * it has found the node's last committed seqno: without it the scheduler promotes nowhere.
 * Maintenance flags are cleared: the question is where the design puts resources, and in
 * maintenance Pacemaker places nothing at all.
 */
export function simulationCib(cibXml: string, nodeNames: string[]): string {
  const doc = create(cibXml);
  const cib = doc.root();
  const cibEl = cib.node as Element;
  for (const old of childElements(cibEl, 'status')) cibEl.removeChild(old);
  for (const nvpair of descendants(cibEl, 'nvpair')) {
    const name = nvpair.getAttribute('name');
    if (name === 'maintenance-mode' || name === 'maintenance') nvpair.setAttribute('value', 'false');
  }
  const ids = new Map<string, string>();
  for (const node of descendants(cibEl, 'node')) {
    const uname = node.getAttribute('uname');
    const id = node.getAttribute('id');
    if (uname && id) ids.set(uname, id);
  }
  const firstId = ids.get(nodeNames[0]) ?? nodeNames[0];
  cib.att('have-quorum', '1').att('dc-uuid', firstId);
  const status = cib.ele('status');
  for (const name of nodeNames) {
    const id = ids.get(name) ?? name;
    status
      .ele('node_state', { id, uname: name, in_ccm: 'true', crmd: 'online', join: 'member', expected: 'member' })
      .ele('transient_attributes', { id })
      .ele('instance_attributes', { id: `status-${id}` })
      .ele('nvpair', { id: `status-${id}-master-${CIB_IDS.galera}`, name: `master-${CIB_IDS.galera}`, value: '100' });
  }
  return doc.end({ prettyPrint: true, indent: '  ' });
}

/** Reads `crm_simulate --output-as=xml`: placement after the simulated transition. */
export function parseSimulatedPlacement(simulateXml: string, vipIds: string[]): Placement {
  const revised = descendants(parseXml(simulateXml), 'revised_cluster_status')[0];
  if (!revised) throw new Error('crm_simulate output has no revised_cluster_status');
  const resourcesEl = childElements(revised, 'resources')[0];
  const running = (resource: Element): string[] =>
    resource.getAttribute('active') === 'true'
      ? childElements(resource, 'node').map((n) => n.getAttribute('name') ?? '')
      : [];
  const vips: Record<string, string | null> = Object.fromEntries(vipIds.map((id) => [id, null]));
  for (const r of resourcesEl ? childElements(resourcesEl, 'resource') : []) {
    const id = r.getAttribute('id') ?? '';
    if (id in vips) vips[id] = running(r)[0] ?? null;
  }
  const cloneInstances = (cloneId: string): Element[] => {
    const clone = (resourcesEl ? childElements(resourcesEl, 'clone') : []).find((c) => c.getAttribute('id') === cloneId);
    return clone ? childElements(clone, 'resource') : [];
  };
  return {
    vips,
    haproxyNodes: cloneInstances(CIB_IDS.haproxyClone).flatMap(running).sort(),
    galeraPromotedNodes: cloneInstances(CIB_IDS.galeraClone)
      .filter((r) => r.getAttribute('role') === 'Promoted')
      .flatMap(running)
      .sort(),
  };
}

/** Every way a placement leaves clients without a service. */
export function placementProblems(placement: Placement, lostNode?: string): WhatIfProblem[] {
  const after = lostNode === undefined ? 'with every node up' : `after losing ${lostNode}`;
  const problems: WhatIfProblem[] = [];
  for (const [vip, node] of Object.entries(placement.vips)) {
    if (node === null)
      problems.push({ code: 'VIP_WITHOUT_HOME', lostNode, resource: vip, message: `${vip} runs nowhere ${after}.` });
    else if (!placement.haproxyNodes.includes(node))
      problems.push({
        code: 'VIP_WITHOUT_HAPROXY',
        lostNode,
        resource: vip,
        message: `${vip} runs on ${node}, where HAProxy does not run, ${after}.`,
      });
  }
  if (placement.galeraPromotedNodes.length === 0)
    problems.push({
      code: 'GALERA_NOT_PROMOTED',
      lostNode,
      resource: CIB_IDS.galeraClone,
      message: `No Galera node is promoted ${after}: the database takes no writes.`,
    });
  return problems;
}
