import type { ComponentHealth, RabbitmqHealthDetail } from '@triad/protocol';

/** The part of `rabbitmqctl cluster_status --formatter json` (RabbitMQ 3.10) the probe reads. */
export interface RabbitmqClusterStatusJson {
  running_nodes?: string[];
  disk_nodes?: string[];
  partitions?: Record<string, string[]>;
  alarms?: unknown[];
}

/** An alarm entry as `node: resource` whatever shape the CLI gives it. */
function alarmText(alarm: unknown): string {
  if (alarm && typeof alarm === 'object') {
    const a = alarm as Record<string, unknown>;
    const what = a['resource'] ?? a['type'] ?? a['alarm'];
    if (a['node'] !== undefined && what !== undefined) return `${String(a['node'])}: ${String(what)}`;
  }
  return typeof alarm === 'string' ? alarm : JSON.stringify(alarm);
}

/**
 * Pure: heartbeat health of a RabbitMQ node from its cluster_status (undefined when the CLI could
 * not reach the node). DOWN: the node or its app is not running. DEGRADED: an expected node is not
 * running, a partition, or a resource alarm (publishers blocked). OK otherwise.
 */
export function rabbitmqHealth(input: { node: string; expectedNodes: string[]; status?: RabbitmqClusterStatusJson; error?: string }): ComponentHealth {
  const { node, expectedNodes, status } = input;
  const detail: RabbitmqHealthDetail = {
    node,
    runningNodes: [...(status?.running_nodes ?? [])].sort(),
    expectedNodes: [...expectedNodes].sort(),
    diskNodes: [...(status?.disk_nodes ?? [])].sort(),
    partitions: Object.fromEntries(Object.entries(status?.partitions ?? {}).filter(([, seen]) => seen.length > 0)),
    alarms: (status?.alarms ?? []).map(alarmText),
  };
  const health = (state: ComponentHealth['state'], summary: string): ComponentHealth => ({ component: 'rabbitmq', state, summary, detailJson: JSON.stringify(detail) });
  // The CLI's own Erlang node name carries a per-run number (rabbitmqcli-670-rabbit@…): without it
  // the summary is the same from one heartbeat to the next, not a "new problem" every time.
  if (!status) return health('COMPONENT_DOWN', `${node} does not answer${input.error ? `: ${input.error.replace(/rabbitmqcli-\d+-/g, 'rabbitmqcli-')}` : ''}`);
  if (!detail.runningNodes.includes(node)) return health('COMPONENT_DOWN', `the RabbitMQ application is not running on ${node}`);
  const problems: string[] = [];
  const missing = detail.expectedNodes.filter((n) => !detail.runningNodes.includes(n));
  if (missing.length) problems.push(`not running: ${missing.join(', ')}`);
  const partitioned = Object.entries(detail.partitions);
  if (partitioned.length) problems.push(`partitions: ${partitioned.map(([n, seen]) => `${n} cannot see ${seen.join(', ')}`).join('; ')}`);
  if (detail.alarms.length) problems.push(`alarms: ${detail.alarms.join(', ')}`);
  if (problems.length) return health('COMPONENT_DEGRADED', `${detail.runningNodes.length} of ${detail.expectedNodes.length} nodes running; ${problems.join('; ')}`);
  return health('COMPONENT_OK', `${detail.runningNodes.length} of ${detail.expectedNodes.length} nodes running, no partitions`);
}
