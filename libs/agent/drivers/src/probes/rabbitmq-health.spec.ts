import { rabbitmqHealth } from './rabbitmq-health';

const nodes = ['rabbit@c1', 'rabbit@c2', 'rabbit@c3'];

describe(rabbitmqHealth.name, () => {
  it('is OK when every expected node runs and nothing is partitioned', () => {
    expect(rabbitmqHealth({ node: 'rabbit@c1', expectedNodes: nodes, status: { running_nodes: nodes, partitions: {}, alarms: [] } })).toMatchObject({ state: 'COMPONENT_OK', summary: '3 of 3 nodes running, no partitions' });
  });

  it('is DEGRADED with a node missing, a partition or an alarm, and says which', () => {
    const h = rabbitmqHealth({
      node: 'rabbit@c1',
      expectedNodes: nodes,
      status: { running_nodes: ['rabbit@c1', 'rabbit@c2'], partitions: { 'rabbit@c1': ['rabbit@c3'] }, alarms: [{ node: 'rabbit@c2', resource: 'memory' }] },
    });
    expect(h).toMatchObject({ state: 'COMPONENT_DEGRADED', summary: '2 of 3 nodes running; not running: rabbit@c3; partitions: rabbit@c1 cannot see rabbit@c3; alarms: rabbit@c2: memory' });
  });

  it('is DOWN when its own app is stopped or the node does not answer', () => {
    expect(rabbitmqHealth({ node: 'rabbit@c3', expectedNodes: nodes, status: { running_nodes: ['rabbit@c1', 'rabbit@c2'] } }).state).toBe('COMPONENT_DOWN');
    expect(rabbitmqHealth({ node: 'rabbit@c3', expectedNodes: nodes, error: 'nodedown' })).toMatchObject({ state: 'COMPONENT_DOWN', summary: 'rabbit@c3 does not answer: nodedown' });
    // Two runs of the CLI, two Erlang node names of its own: one summary (the rollout gate compares summaries).
    const run = (n: number) => rabbitmqHealth({ node: 'rabbit@c3', expectedNodes: nodes, error: `Error: unable to perform an operation on node 'rabbit@c3'. rabbitmqcli-${n}-rabbit@c3 could not connect` }).summary;
    expect(run(670)).toBe(run(4411));
  });
});
