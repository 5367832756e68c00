// Time from updateClusterSpec to "applied" on every node, through the whole real path.
//
//   SWC_NODE_PROJECT=tsconfig.json node -r @swc-node/register tools/bench/apply-latency.ts [--agents 2] [--revisions 10]
//
// Starts the control plane as operators run it (api + worker processes, fresh database, private
// operator-mode nats-server), N real agents each with its own real haproxy, then makes
// `--revisions` spec changes one after another (each adds a frontend) and measures, for each, the
// time from the updateClusterSpec call until GraphQL shows the new revision applied on every node
// (commit → outbox → relay → NATS → agent → render → haproxy -c → reload → result → Postgres).
// Prints every sample, then min / p50 / p95 / max.
import { Command } from 'commander';
import { startControlPlane, startLocalAgent, waitFor, type TriadProcess } from '@triad/testing';

const opts = new Command()
  .option('--agents <n>', 'agents (controllers)', (v) => Number.parseInt(v, 10), 2)
  .option('--revisions <n>', 'spec changes to measure', (v) => Number.parseInt(v, 10), 10)
  .parse()
  .opts<{ agents: number; revisions: number }>();

const BASE_PORT = 21000;

function spec(nodes: string[], frontends: number) {
  const services = ['keystone', 'glance-api', 'nova-api', 'placement', 'neutron-server', 'cinder-api', 'heat-api', 'heat-cfn', 'aodh', 'swift-proxy', 'horizon', 'nova-metadata', 'nova-novncproxy', 'keystone-admin'];
  return {
    apiVersion: 'triad.io/v1',
    metadata: { name: 'bench' },
    topology: {
      mode: nodes.length >= 3 ? 'ACTIVE_ACTIVE' : 'ACTIVE_PASSIVE',
      nodes: nodes.map((name, i) => ({ name, managementAddress: `127.0.5.${i + 1}`, internalAddress: `127.0.5.${i + 1}` })),
      networks: { public: { cidr: '127.0.0.0/8' }, internal: { cidr: '127.0.0.0/8', vip: '127.0.6.100' } },
    },
    services: services.slice(0, frontends).map((name, i) => ({ name, vip: `127.0.6.${i + 1}`, port: BASE_PORT + i })),
    ...(nodes.length % 2 === 0 ? { galera: { arbitrator: { address: '127.0.5.99' } } } : {}),
    rabbitmq: { erlangCookie: { secretRef: 'rabbitmq-erlang-cookie' } },
    pacemaker: { properties: { stonithEnabled: false } },
    acknowledgedWarnings: ['STONITH_DISABLED'],
  };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function main(): Promise<void> {
  const cp = await startControlPlane({ heartbeatIntervalMs: 1000, logLevel: 'info' });
  const agents: TriadProcess[] = [];
  try {
    const gql = cp.client(await cp.bootstrapTenant('bench'));
    const cloud = await gql.ok<{ createCloud: { id: string } }>(`mutation { createCloud(name: "bench") { id } }`);
    const clusterId = (await gql.ok<{ createCluster: { id: string } }>(`mutation($c: ID!) { createCluster(cloudId: $c, name: "bench") { id } }`, { c: cloud.createCloud.id })).createCluster.id;
    const token = (
      await gql.ok<{ createEnrollmentToken: { secret: string } }>(`mutation($c: ID!, $m: Int!) { createEnrollmentToken(clusterId: $c, name: "bench", maxUses: $m) { secret } }`, {
        c: clusterId,
        m: opts.agents,
      })
    ).createEnrollmentToken.secret;
    const names = Array.from({ length: opts.agents }, (_, i) => `controller-${i + 1}`);
    names.forEach((name, i) => agents.push(startLocalAgent(cp, { name, token, haproxyBindAddress: `127.0.7.${i + 1}` })));
    const applied = async (revision: number) => {
      const d = await gql.ok<{ cluster: { nodes: { edges: { node: { status: string; appliedRevision: number } }[] } } }>(
        `query($id: ID!) { cluster(id: $id) { nodes(first: 100) { edges { node { status appliedRevision } } } } }`,
        { id: clusterId },
      );
      return d.cluster.nodes.edges.length === opts.agents && d.cluster.nodes.edges.every((e) => e.node.status === 'ONLINE' && e.node.appliedRevision === revision);
    };
    await waitFor('agents ONLINE', () => applied(0), 120_000, 200);

    const samples: number[] = [];
    for (let r = 1; r <= opts.revisions; r++) {
      const t0 = performance.now();
      await gql.ok(`mutation($id: ID!, $s: JSON!, $r: Int!) { updateClusterSpec(clusterId: $id, spec: $s, expectedRevision: $r) { revision { revision } } }`, {
        id: clusterId,
        s: spec(names, Math.min(r, 14)),
        r: r - 1,
      });
      await waitFor(`revision ${r} applied everywhere`, () => applied(r), 60_000, 20);
      const ms = performance.now() - t0;
      samples.push(ms);
      process.stdout.write(`revision ${r}: applied on ${opts.agents} nodes in ${ms.toFixed(0)} ms\n`);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    process.stdout.write(
      `updateClusterSpec → applied on all ${opts.agents} nodes, ${samples.length} revisions: ` +
        `min ${pct(sorted, 0).toFixed(0)} ms, p50 ${pct(sorted, 50).toFixed(0)} ms, p95 ${pct(sorted, 95).toFixed(0)} ms, max ${pct(sorted, 100).toFixed(0)} ms ` +
        `(GraphQL polled every 20 ms)\n`,
    );
  } finally {
    await Promise.allSettled(agents.map((a) => a.stop('SIGTERM', 15_000)));
    await cp.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
