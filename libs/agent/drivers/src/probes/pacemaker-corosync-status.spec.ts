import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corosyncHealthDetailSchema } from '@triad/protocol';
import { corosyncHealth, parseCfgtoolStatus, parseQuorumtoolStatus } from './pacemaker-corosync-status';

/** Captured from a 3-node lab cluster (tools/lab) running Corosync 3.1.7 (knet). */
const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');
const detail = (cfgtool: string, quorumtool: string) => ({ ...parseCfgtoolStatus(fixture(cfgtool)), quorum: parseQuorumtoolStatus(fixture(quorumtool)) });

describe(parseCfgtoolStatus.name, () => {
  it('reads the local node id, transport and every peer on each link', () => {
    expect(parseCfgtoolStatus(fixture('corosync-cfgtool-3-connected.txt'))).toEqual({
      nodeId: 1,
      transport: 'knet',
      links: [
        {
          linkId: 0,
          address: '10.77.1.1',
          peers: [
            { nodeId: 1, status: 'localhost' },
            { nodeId: 2, status: 'connected' },
            { nodeId: 3, status: 'connected' },
          ],
        },
      ],
    });
  });
});

describe(parseQuorumtoolStatus.name, () => {
  it('reads quorum, votes and members', () => {
    expect(parseQuorumtoolStatus(fixture('corosync-quorumtool-3-quorate.txt'))).toEqual({
      quorate: true,
      expectedVotes: 3,
      totalVotes: 3,
      quorum: 2,
      members: [
        { nodeId: 1, votes: 1, name: 'controller-1', local: true },
        { nodeId: 2, votes: 1, name: 'controller-2', local: false },
        { nodeId: 3, votes: 1, name: 'controller-3', local: false },
      ],
    });
  });

  it('reads "Activity blocked" without quorum', () => {
    expect(parseQuorumtoolStatus(fixture('corosync-quorumtool-isolated.txt'))).toMatchObject({ quorate: false, totalVotes: 1, quorum: 2 });
  });
});

describe(corosyncHealth.name, () => {
  it('is OK with every link connected and quorum; the detail follows the protocol schema', () => {
    const h = corosyncHealth(detail('corosync-cfgtool-3-connected.txt', 'corosync-quorumtool-3-quorate.txt'));
    expect(h).toMatchObject({ component: 'corosync', state: 'COMPONENT_OK', summary: 'quorate: 3/3 votes, 3 members' });
    expect(corosyncHealthDetailSchema.parse(JSON.parse(h.detailJson ?? '')).links[0]?.peers).toHaveLength(3);
  });

  it('is DEGRADED when a peer is disconnected but quorum holds', () => {
    const h = corosyncHealth(detail('corosync-cfgtool-peer-down.txt', 'corosync-quorumtool-peer-down.txt'));
    expect(h.state).toBe('COMPONENT_DEGRADED');
    expect(h.summary).toBe('quorate: 2/3 votes, 2 members; node 3 disconnected on link 0');
  });

  it('names a disconnected peer from the nodelist, so a gate or finding about that node matches it', () => {
    const h = corosyncHealth(detail('corosync-cfgtool-peer-down.txt', 'corosync-quorumtool-peer-down.txt'), new Map([[1, 'controller-1'], [2, 'controller-2'], [3, 'controller-3']]));
    expect(h.summary).toBe('quorate: 2/3 votes, 2 members; controller-3 disconnected on link 0');
  });

  it('is DOWN on an isolated node without quorum', () => {
    const h = corosyncHealth(detail('corosync-cfgtool-isolated.txt', 'corosync-quorumtool-isolated.txt'));
    expect(h).toMatchObject({ state: 'COMPONENT_DOWN', summary: 'not quorate: 1/3 votes, 2 needed' });
  });
});
