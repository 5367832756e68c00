import type { ComponentHealth, PacemakerHealthDetail } from '@triad/protocol';
import { child, childrenNamed, parseXml, type XmlElement } from '../pacemaker/xml-tree';

export type PacemakerStatus = Omit<PacemakerHealthDetail, 'node' | 'heldVips'>;

/** crm_mon answered with an error status (cluster not running on this node, not connected…). */
export class CrmMonError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'CrmMonError';
  }
}

const bool = (el: XmlElement | undefined, name: string): boolean => el?.attrs[name] === 'true';

function resourcesOf(el: XmlElement, parent: string | undefined, out: PacemakerStatus['resources']): void {
  for (const c of el.children) {
    if (c.name === 'resource') {
      out.push({
        id: c.attrs.id ?? '',
        ...(parent ? { parent } : {}),
        agent: c.attrs.resource_agent ?? '',
        role: c.attrs.role ?? 'Unknown',
        active: bool(c, 'active'),
        managed: bool(c, 'managed'),
        failed: bool(c, 'failed'),
        blocked: bool(c, 'blocked'),
        orphaned: bool(c, 'orphaned'),
        nodes: childrenNamed(c, 'node').map((n) => n.attrs.name ?? ''),
      });
    } else if (c.name === 'clone' || c.name === 'group' || c.name === 'bundle' || c.name === 'replica') {
      // A bundle's replicas belong to the bundle; a group inside a clone belongs to the clone.
      resourcesOf(c, c.name === 'replica' ? parent : (parent ?? c.attrs.id), out);
    }
  }
}

/** `<resource>_<task>_<interval>` → resource (ids may contain underscores). */
function resourceOfOperation(opKey: string, task: string, interval: string): string {
  const suffix = `_${task}_${interval}`;
  return opKey.endsWith(suffix) ? opKey.slice(0, -suffix.length) : opKey.replace(/_[^_]+_\d+$/, '');
}

/**
 * Parses `crm_mon --output-as=xml --one-shot` (API 2.x, Pacemaker 2.1). Throws CrmMonError when
 * crm_mon reports an error instead of a cluster status.
 */
export function parseCrmMon(xml: string): PacemakerStatus {
  const root = parseXml(xml);
  const status = child(root, 'status');
  const code = Number(status?.attrs.code ?? '0');
  if (code !== 0 || !child(root, 'summary')) {
    const errors = descendantsText(child(status, 'errors'));
    throw new CrmMonError(code, [status?.attrs.message ?? 'no cluster summary', ...errors].join(': '));
  }
  const summary = child(root, 'summary');
  const dc = child(summary, 'current_dc');
  const options = child(summary, 'cluster_options');

  const failCounts = new Map<string, number>();
  for (const node of childrenNamed(child(root, 'node_history'), 'node')) {
    for (const history of childrenNamed(node, 'resource_history')) {
      if (history.attrs['fail-count'] !== undefined) failCounts.set(`${node.attrs.name}/${history.attrs.id}`, Number(history.attrs['fail-count']));
    }
  }

  const resources: PacemakerStatus['resources'] = [];
  const resourcesEl = child(root, 'resources');
  if (resourcesEl) resourcesOf(resourcesEl, undefined, resources);

  return {
    dc: bool(dc, 'present') ? dc?.attrs.name : undefined,
    quorate: bool(dc, 'with_quorum'),
    maintenanceMode: bool(options, 'maintenance-mode'),
    stopAllResources: bool(options, 'stop-all-resources'),
    stonithEnabled: bool(options, 'stonith-enabled'),
    nodes: childrenNamed(child(root, 'nodes'), 'node').map((n) => ({
      name: n.attrs.name ?? '',
      id: n.attrs.id ?? '',
      online: bool(n, 'online'),
      standby: bool(n, 'standby'),
      maintenance: bool(n, 'maintenance'),
      unclean: bool(n, 'unclean'),
      pending: bool(n, 'pending'),
      shutdown: bool(n, 'shutdown'),
      isDc: bool(n, 'is_dc'),
      resourcesRunning: Number(n.attrs.resources_running ?? '0'),
    })),
    resources,
    failedActions: childrenNamed(child(root, 'failures'), 'failure').map((f) => {
      const task = f.attrs.task ?? '';
      const resource = resourceOfOperation(f.attrs.op_key ?? '', task, f.attrs.interval ?? '0');
      const failCount = failCounts.get(`${f.attrs.node}/${resource}`);
      return {
        resource,
        operation: f.attrs.op_key ?? '',
        task,
        node: f.attrs.node ?? '',
        exitCode: Number(f.attrs.exitcode ?? '-1'),
        exitStatus: f.attrs.exitstatus ?? '',
        exitReason: f.attrs.exitreason ?? '',
        intervalMs: Number(f.attrs.interval ?? '0'),
        lastRcChange: f.attrs['last-rc-change'] ?? '',
        ...(failCount !== undefined ? { failCount } : {}),
      };
    }),
  };
}

function descendantsText(el: XmlElement | undefined): string[] {
  if (!el) return [];
  return [...(el.text ? [el.text] : []), ...el.children.flatMap(descendantsText)];
}

/** A failed action's identity: the same failure seen twice is not new. */
export function failedActionKey(f: PacemakerStatus['failedActions'][number]): string {
  return `${f.node}/${f.operation}/${f.lastRcChange}`;
}

/**
 * Health of the cluster as one node sees it:
 * - DOWN: this node is not an online cluster member, or its partition has no quorum;
 * - DEGRADED: another node offline/unclean/standby/in maintenance, no DC, maintenance mode, a
 *   failed, blocked or unmanaged resource, or a failed action;
 * - OK otherwise.
 */
export function pacemakerHealth(status: PacemakerStatus, nodeName: string): ComponentHealth {
  const heldVips = [...new Set(status.resources.filter((r) => r.agent === 'ocf:heartbeat:IPaddr2' && r.active && r.nodes.includes(nodeName)).map((r) => r.id))];
  const detail: PacemakerHealthDetail = { node: nodeName, heldVips, ...status };
  const result = (state: ComponentHealth['state'], summary: string): ComponentHealth => ({
    component: 'pacemaker',
    state,
    summary,
    detailJson: JSON.stringify(detail),
  });
  const self = status.nodes.find((n) => n.name === nodeName);
  if (!self) return result('COMPONENT_DOWN', `${nodeName} is not a node of this cluster`);
  if (!self.online || self.unclean) return result('COMPONENT_DOWN', `${nodeName} is ${self.unclean ? 'unclean' : 'offline'} in the cluster`);
  if (!status.quorate) return result('COMPONENT_DOWN', `${nodeName}'s partition has no quorum`);

  const problems: string[] = [];
  const online = status.nodes.filter((n) => n.online && !n.unclean).length;
  const nodeIssues = status.nodes.flatMap((n) => {
    const issues = [!n.online && 'offline', n.unclean && 'unclean', n.standby && 'standby', n.maintenance && 'maintenance'].filter(Boolean);
    return issues.length ? [`${n.name} ${issues.join('+')}`] : [];
  });
  if (nodeIssues.length) problems.push(nodeIssues.join(', '));
  if (!status.dc) problems.push('no DC');
  if (status.maintenanceMode) problems.push('maintenance-mode on');
  if (status.stopAllResources) problems.push('stop-all-resources on');
  const named = (pick: (r: PacemakerStatus['resources'][number]) => boolean) => [...new Set(status.resources.filter(pick).map((r) => r.id))];
  const failed = named((r) => r.failed);
  const blocked = named((r) => r.blocked);
  // In cluster maintenance mode every resource is unmanaged: that is reported once, above.
  const unmanaged = status.maintenanceMode ? [] : named((r) => !r.managed);
  if (failed.length) problems.push(`failed: ${failed.join(', ')}`);
  if (blocked.length) problems.push(`blocked: ${blocked.join(', ')}`);
  if (unmanaged.length) problems.push(`unmanaged: ${unmanaged.join(', ')}`);
  if (status.failedActions.length) {
    problems.push(`failed actions: ${status.failedActions.map((f) => `${f.operation} on ${f.node} (${f.exitStatus})`).join(', ')}`);
  }
  const base = `${online}/${status.nodes.length} nodes online, DC ${status.dc ?? 'none'}, quorate`;
  return problems.length ? result('COMPONENT_DEGRADED', `${base}; ${problems.join('; ')}`) : result('COMPONENT_OK', base);
}
