import { child, childrenNamed, type XmlElement } from './xml-tree';

/**
 * Probe bookkeeping for `crm_resource --refresh` (giving a resource back, the start-only-parameter
 * hold): which online nodes have recorded a probe of the resource since the refresh.
 */

/** One recorded probe (monitor, interval 0) of a resource's primitive on a node. */
export interface ProbeRecord {
  node: string;
  /** The `lrm_resource` id: the primitive, or `primitive:N` for an instance's own history. */
  resource: string;
  callId: string;
  opStatus: string | undefined;
  rcCode: string | undefined;
}

/** op-status -1 or rc-code 193: the probe is still running. */
const isPending = (p: ProbeRecord) => p.opStatus === '-1' || p.rcCode === '193';

/** `node resource call N status S rc R`, for messages. */
export const describeProbe = (p: ProbeRecord) => `${p.node} ${p.resource} call ${p.callId} status ${p.opStatus} rc ${p.rcCode}`;

/** Every recorded probe of `primitives` in the CIB's status section. */
export function recordedProbes(cib: XmlElement, primitives: string[]): ProbeRecord[] {
  const out: ProbeRecord[] = [];
  for (const node of childrenNamed(child(cib, 'status'), 'node_state')) {
    const uname = node.attrs.uname;
    if (!uname) continue;
    const resources = childrenNamed(child(child(node, 'lrm'), 'lrm_resources'), 'lrm_resource').filter((r) => primitives.some((p) => r.attrs.id === p || r.attrs.id?.startsWith(`${p}:`)));
    for (const r of resources) {
      for (const op of childrenNamed(r, 'lrm_rsc_op')) {
        if (op.attrs.operation !== 'monitor' || op.attrs.interval !== '0') continue;
        out.push({ node: uname, resource: r.attrs.id ?? '', callId: op.attrs['call-id'] ?? '-1', opStatus: op.attrs['op-status'], rcCode: op.attrs['rc-code'] });
      }
    }
  }
  return out;
}

const key = (p: ProbeRecord) => `${p.node}\t${p.resource}\t${p.callId}`;

/** What was recorded before the refresh (finished or not): the records a later probe must differ from. */
export function probeSnapshot(cib: XmlElement, primitives: string[]): Set<string> {
  return new Set(recordedProbes(cib, primitives).map(key));
}

/**
 * Online nodes without a finished probe recorded since `before`. A refresh deletes the history,
 * so a probe run after it is a record that did not exist before — whatever its call id: an
 * instance's stale `primitive:N` entry with a higher call id, or one left from before the node's
 * executor restarted, must not keep a node waiting (comparing call ids did once, for 120 s).
 */
export function nodesAwaitingProbe(cib: XmlElement, primitives: string[], before: Set<string>): string[] {
  const probed = new Set(recordedProbes(cib, primitives).filter((p) => !isPending(p) && !before.has(key(p))).map((p) => p.node));
  return onlineNodes(cib).filter((n) => !probed.has(n));
}

/** Nodes whose controller is online and in the membership. */
function onlineNodes(cib: XmlElement): string[] {
  return childrenNamed(child(cib, 'status'), 'node_state')
    .filter((n) => n.attrs.crmd === 'online' && n.attrs.in_ccm !== undefined && n.attrs.in_ccm !== 'false' && n.attrs.uname)
    .map((n) => n.attrs.uname as string);
}
