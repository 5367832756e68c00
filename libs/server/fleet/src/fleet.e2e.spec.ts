import { jetstream } from '@nats-io/jetstream';
import { connect, jwtAuthenticator } from '@nats-io/transport-node';
import {
  agentServiceClient,
  enrollSimulatedAgent,
  SimulatedAgentStream,
  startControlPlane,
  waitFor,
  type ControlPlane,
  type GraphQLClient,
} from '@triad/testing';
import type { AgentServiceClient } from '@triad/protocol';

jest.setTimeout(180_000);

const INTERVAL_MS = 500;

/** The agent-facing side as operators run it: api and worker processes, operator-mode NATS. */
describe('fleet end to end', () => {
  let cp: ControlPlane;
  let gql: GraphQLClient;
  let client: AgentServiceClient;
  const streams: SimulatedAgentStream[] = [];

  beforeAll(async () => {
    cp = await startControlPlane({ heartbeatIntervalMs: INTERVAL_MS, logLevel: 'info' });
    gql = cp.client(await cp.bootstrapTenant('fleet-e2e'));
    client = agentServiceClient(cp.grpcAddress, cp.grpcCredentials());
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    client?.close();
    await cp?.stop();
  });

  const status = async (nodeId: string) => (await gql.ok<{ node: { status: string } }>('query($id: ID!) { node(id: $id) { status } }', { id: nodeId })).node.status;

  it('enrolls with a token from GraphQL, reaches its own consumer with its NATS JWT, goes ONLINE, UNREACHABLE when silent, ONLINE again', async () => {
    const { createCloud } = await gql.ok<{ createCloud: { id: string } }>('mutation { createCloud(name: "region-1") { id } }');
    const { createCluster } = await gql.ok<{ createCluster: { id: string } }>('mutation($c: ID!) { createCluster(cloudId: $c, name: "overcloud") { id } }', { c: createCloud.id });
    const { createEnrollmentToken } = await gql.ok<{ createEnrollmentToken: { secret: string } }>('mutation($c: ID!) { createEnrollmentToken(clusterId: $c, name: "e2e", maxUses: 1) { secret } }', {
      c: createCluster.id,
    });

    const agent = await enrollSimulatedAgent(client, createEnrollmentToken.secret, 'controller-1');
    const nats = agent.response.nats;
    expect(nats?.userJwt).toBeTruthy();
    expect(await status(agent.nodeId)).toBe('PENDING');

    // Its JWT lets it fetch from its own consumer (empty for now).
    const nc = await connect({ servers: nats?.servers, authenticator: jwtAuthenticator(nats?.userJwt as string, new TextEncoder().encode(agent.natsSeed)), inboxPrefix: nats?.inboxPrefix });
    try {
      const consumer = await jetstream(nc).consumers.get(nats?.stream as string, nats?.consumer as string);
      expect((await consumer.info()).config.filter_subject).toBe(nats?.subject);
    } finally {
      await nc.close();
    }

    const s = SimulatedAgentStream.open(client, agent);
    streams.push(s);
    await s.hello();
    expect((await s.next('settings')).settings?.heartbeatIntervalMs).toBe(INTERVAL_MS);
    expect(await status(agent.nodeId)).toBe('ONLINE');

    // The worker's sweeper sees the silence.
    await waitFor('node unreachable', async () => (await status(agent.nodeId)) === 'UNREACHABLE', 30_000, 100);
    await s.heartbeat(1);
    await waitFor('node online again', async () => (await status(agent.nodeId)) === 'ONLINE', 10_000, 100);
  });
});
