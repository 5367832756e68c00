import type { ComponentHealth, CorosyncHealthDetail } from '@triad/protocol';

type Links = Pick<CorosyncHealthDetail, 'nodeId' | 'transport' | 'links'>;
type Quorum = NonNullable<CorosyncHealthDetail['quorum']>;

/**
 * `corosync-cfgtool -s` (Corosync 3, knet):
 * ```
 * Local node ID 1, transport knet
 * LINK ID 0 udp
 *         addr    = 10.77.1.1
 *         status:
 *                 nodeid:          2:      connected
 * ```
 */
export function parseCfgtoolStatus(text: string): Links {
  const header = /Local node ID (\d+)(?:, transport (\S+))?/.exec(text);
  if (!header) throw new Error(`unexpected corosync-cfgtool -s output: ${text.slice(0, 200)}`);
  const links: Links['links'] = [];
  for (const line of text.split('\n')) {
    const link = /^LINK ID (\d+)/.exec(line);
    if (link) {
      links.push({ linkId: Number(link[1]), peers: [] });
      continue;
    }
    const current = links[links.length - 1];
    if (!current) continue;
    const addr = /^\s*addr\s*=\s*(\S+)/.exec(line);
    if (addr) current.address = addr[1];
    const peer = /^\s*nodeid:\s*(\d+):\s*(.+?)\s*$/.exec(line);
    if (peer) current.peers.push({ nodeId: Number(peer[1]), status: peer[2] ?? '' });
  }
  return { nodeId: Number(header[1]), ...(header[2] ? { transport: header[2] } : {}), links };
}

/** `corosync-quorumtool -s`: quorate flag, votes and the membership list. */
export function parseQuorumtoolStatus(text: string): Quorum {
  const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*(.*?)\\s*$`, 'm').exec(text)?.[1];
  const quorate = field('Quorate');
  if (quorate === undefined) throw new Error(`unexpected corosync-quorumtool -s output: ${text.slice(0, 200)}`);
  const members = [...text.matchAll(/^\s+(\d+)\s+(\d+)\s+(\S+)( \(local\))?\s*$/gm)].map((m) => ({
    nodeId: Number(m[1]),
    votes: Number(m[2]),
    name: m[3] ?? '',
    local: m[4] !== undefined,
  }));
  return {
    quorate: quorate === 'Yes',
    expectedVotes: Number(field('Expected votes') ?? '0'),
    totalVotes: Number(field('Total votes') ?? '0'),
    quorum: Number(/^(\d+)/.exec(field('Quorum') ?? '')?.[1] ?? '0'),
    members,
  };
}

/**
 * Corosync as this node sees it: DOWN without quorum; DEGRADED when a configured peer is not
 * connected on some link or a member is missing; OK otherwise. Peers are named from the nodelist
 * (`names`: nodeid → name) so that a problem says which node ("controller-4 disconnected"), as the
 * rollout gate and the findings match node names.
 */
export function corosyncHealth(detail: CorosyncHealthDetail, names: ReadonlyMap<number, string> = new Map()): ComponentHealth {
  const result = (state: ComponentHealth['state'], summary: string): ComponentHealth => ({
    component: 'corosync',
    state,
    summary,
    detailJson: JSON.stringify(detail),
  });
  const q = detail.quorum;
  const votes = q ? `${q.totalVotes}/${q.expectedVotes} votes` : 'votequorum did not answer';
  if (!q) return result('COMPONENT_UNKNOWN', votes);
  if (!q.quorate) return result('COMPONENT_DOWN', `not quorate: ${votes}, ${q.quorum} needed`);
  const down = detail.links.flatMap((l) =>
    l.peers.filter((p) => p.status !== 'localhost' && p.status !== 'connected').map((p) => `${names.get(p.nodeId) ?? `node ${p.nodeId}`} ${p.status} on link ${l.linkId}`),
  );
  const summary = `quorate: ${votes}, ${q.members.length} members`;
  return down.length ? result('COMPONENT_DEGRADED', `${summary}; ${down.join(', ')}`) : result('COMPONENT_OK', summary);
}
