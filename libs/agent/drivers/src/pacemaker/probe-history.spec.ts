import { nodesAwaitingProbe, probeSnapshot } from './probe-history';
import { parseXml } from './xml-tree';

type Op = { resource: string; callId: number; operation?: string; interval?: string; opStatus?: number; rc?: number };

/** A CIB status section: per node, whether it is an online member and its galera history. */
function cib(nodes: Record<string, { online?: boolean; ops: Op[] }>): ReturnType<typeof parseXml> {
  const states = Object.entries(nodes).map(([name, n]) => {
    const byResource = new Map<string, Op[]>();
    for (const op of n.ops) byResource.set(op.resource, [...(byResource.get(op.resource) ?? []), op]);
    const resources = [...byResource].map(
      ([id, ops]) =>
        `<lrm_resource id="${id}" type="galera" class="ocf" provider="heartbeat">${ops
          .map((o, i) => `<lrm_rsc_op id="${id}_op${i}" operation="${o.operation ?? 'monitor'}" interval="${o.interval ?? '0'}" call-id="${o.callId}" op-status="${o.opStatus ?? 0}" rc-code="${o.rc ?? 8}"/>`)
          .join('')}</lrm_resource>`,
    );
    const online = n.online ?? true;
    return `<node_state id="${name}" uname="${name}" crmd="${online ? 'online' : 'offline'}" in_ccm="${online ? '1732450000' : 'false'}"><lrm id="${name}"><lrm_resources>${resources.join('')}</lrm_resources></lrm></node_state>`;
  });
  return parseXml(`<cib><configuration/><status>${states.join('')}</status></cib>`);
}

describe('nodesAwaitingProbe (crm_resource --refresh, then wait for every online node to probe again)', () => {
  const primitives = ['galera'];

  it('waits for every online member until each has recorded a new finished probe', () => {
    const before = probeSnapshot(cib({ 'controller-1': { ops: [{ resource: 'galera', callId: 40 }] }, 'controller-2': { ops: [{ resource: 'galera', callId: 41 }] } }), primitives);
    // The refresh deleted the history; controller-1 probed again, controller-2's probe still runs.
    const during = cib({ 'controller-1': { ops: [{ resource: 'galera', callId: 52 }] }, 'controller-2': { ops: [{ resource: 'galera', callId: 53, opStatus: -1, rc: 193 }] } });
    expect(nodesAwaitingProbe(during, primitives, before)).toEqual(['controller-2']);
    const after = cib({ 'controller-1': { ops: [{ resource: 'galera', callId: 52 }] }, 'controller-2': { ops: [{ resource: 'galera', callId: 53, rc: 7 }] } });
    expect(nodesAwaitingProbe(after, primitives, before)).toEqual([]);
  });

  it('keeps waiting while nothing changed (the refresh has not been acted on yet)', () => {
    const state = cib({ 'controller-1': { ops: [{ resource: 'galera', callId: 40 }] } });
    expect(nodesAwaitingProbe(state, primitives, probeSnapshot(state, primitives))).toEqual(['controller-1']);
  });

  it('does not wait on a stale instance entry with a higher call id, nor on a probe numbered lower after an executor restart', () => {
    // controller-1 still carries galera:2's history (call 90) that the refresh did not remove;
    // controller-2's executor restarted, so its new probe's call id (3) is below the old one (77).
    const before = probeSnapshot(
      cib({ 'controller-1': { ops: [{ resource: 'galera', callId: 40 }, { resource: 'galera:2', callId: 90, rc: 1 }] }, 'controller-2': { ops: [{ resource: 'galera', callId: 77 }] } }),
      primitives,
    );
    const after = cib({ 'controller-1': { ops: [{ resource: 'galera', callId: 55 }, { resource: 'galera:2', callId: 90, rc: 1 }] }, 'controller-2': { ops: [{ resource: 'galera', callId: 3 }] } });
    expect(nodesAwaitingProbe(after, primitives, before)).toEqual([]);
  });

  it('counts only probes (monitor, interval 0) of the resource, and only online members', () => {
    const before = probeSnapshot(cib({ 'controller-1': { ops: [] }, 'controller-3': { online: false, ops: [] } }), primitives);
    const after = cib({
      'controller-1': { ops: [{ resource: 'galera', callId: 60, interval: '20000' }, { resource: 'galera', callId: 61, operation: 'promote' }, { resource: 'rabbitmq', callId: 62 }] },
      'controller-3': { online: false, ops: [] },
    });
    expect(nodesAwaitingProbe(after, primitives, before)).toEqual(['controller-1']);
  });
});
