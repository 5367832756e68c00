import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { CommandSigner, CommandsService, commandStreamConfig, ensureCommandStream, Reconciler } from '@triad/commands';
import { AuditEvent, Cloud, Cluster, ClusterRevision, Command, CommandStatus, createDataSource, EnrollmentToken, issueSecret, Node, NodeStatus, Tenant } from '@triad/db';
import { EnrollmentService } from '@triad/enrollment';
import { createLogger } from '@triad/logging';
import { AGENT_AUTH_WINDOW_MS, type AgentServiceClient } from '@triad/protocol';
import {
  agentServiceClient,
  createTestDatabase,
  enrollSimulatedAgent,
  freePort,
  labClusterSpec,
  labLoopbackAddresses,
  SimulatedAgentStream,
  startNatsServer,
  waitFor,
  type EnrolledIdentity,
  type TestDatabase,
  type TestNatsServer,
  selfSignedCertificate,
} from '@triad/testing';
import type { DataSource } from 'typeorm';
import { AgentAuthenticator } from './agent-authenticator';
import { AgentGrpcServer } from './agent-grpc.server';
import { AgentStreamService } from './agent-stream.service';
import { LivenessSweeper } from './liveness.sweeper';
import { NodePresenceStore } from './node-presence.store';
import { NodeStateWriter } from './node-state.writer';

jest.setTimeout(60_000);

/** A certificate for 127.0.0.1, as an operator would configure GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE. */
function certificatePems(dir: string): { certPem: string; keyPem: string } {
  const cert = selfSignedCertificate(dir, { ips: ['127.0.0.1'] });
  return { certPem: readFileSync(cert.certFile, 'utf8'), keyPem: readFileSync(cert.keyFile, 'utf8') };
}

/** Short interval so liveness is observable quickly: SUSPECT after 450 ms, UNREACHABLE after 900 ms. */
const INTERVAL_MS = 300;
const silent = createLogger('fleet-test', { level: 'silent' });

describe(AgentStreamService.name, () => {
  let db: TestDatabase;
  let ds: DataSource;
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let redis: Redis;
  let prefix: string;
  let server: AgentGrpcServer;
  let client: AgentServiceClient;
  let presence: NodePresenceStore;
  let writer: NodeStateWriter;
  let sweeper: LivenessSweeper;
  let enrollment: EnrollmentService;
  let commands: CommandsService;
  let tenantId: string;
  let clusterId: string;
  let cloudId: string;
  const streams: SimulatedAgentStream[] = [];

  async function token(maxUses = 1, forCluster = clusterId): Promise<string> {
    const secret = issueSecret('enr');
    await ds.getRepository(EnrollmentToken).insert({ tenantId, cloudId, clusterId: forCluster, name: 't', tokenHash: secret.hash, prefix: secret.prefix, maxUses, expiresAt: new Date(Date.now() + 3_600_000) });
    return secret.secret;
  }

  async function enrolled(hostname = `controller-${randomUUID().slice(0, 6)}`): Promise<EnrolledIdentity> {
    return enrollSimulatedAgent(client, await token(), hostname);
  }

  function open(identity: EnrolledIdentity, now = Date.now()): SimulatedAgentStream {
    const s = SimulatedAgentStream.open(client, identity, now);
    streams.push(s);
    return s;
  }

  async function greeted(identity: EnrolledIdentity): Promise<SimulatedAgentStream> {
    const s = open(identity);
    await s.hello();
    await s.next('desired');
    return s;
  }

  const node = (id: string) => ds.getRepository(Node).findOneByOrFail({ id });
  /** xmin changes with every UPDATE of the row: unchanged means nothing wrote it. */
  const rowVersion = async (id: string) => ((await ds.query('SELECT xmin::text AS v FROM nodes WHERE id = $1', [id])) as Array<{ v: string }>)[0].v;
  const transitions = (id: string) => ds.getRepository(AuditEvent).find({ where: { targetId: id, action: 'node.status.changed' }, order: { createdAt: 'ASC' } });

  beforeAll(async () => {
    [db, nats] = await Promise.all([createTestDatabase('fleet'), startNatsServer({ jetstream: true })]);
    ds = await createDataSource(db.url, { poolSize: 6 }).initialize();
    nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    prefix = `test:fleet:${randomUUID()}:`;
    presence = new NodePresenceStore(redis, prefix);
    writer = new NodeStateWriter(ds);
    const signer = CommandSigner.fromPem(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    commands = new CommandsService(ds, new Reconciler(ds, signer, { commandTtlMs: 60_000 }, silent), silent);
    enrollment = new EnrollmentService(
      ds,
      async () => jsm,
      { heartbeatIntervalMs: INTERVAL_MS, natsAgentServers: [nats.url], commandSigningPublicKeyPem: signer.publicKeyPem, ensureCommandStream: (m) => ensureCommandStream(m, commandStreamConfig()) },
      silent,
    );
    const streamService = new AgentStreamService(ds, new AgentAuthenticator(ds, redis, prefix), presence, writer, commands, { heartbeatIntervalMs: INTERVAL_MS }, silent);
    server = new AgentGrpcServer(enrollment, streamService, { bind: '127.0.0.1:0' }, silent);
    const port = await server.start();
    client = agentServiceClient(`127.0.0.1:${port}`);
    sweeper = new LivenessSweeper(redis, ds, presence, writer, { heartbeatIntervalMs: INTERVAL_MS, redisPrefix: prefix }, silent);

    tenantId = (await ds.getRepository(Tenant).save({ name: 'Acme', slug: `acme-${randomUUID().slice(0, 8)}` })).id;
    cloudId = (await ds.getRepository(Cloud).save({ tenantId, name: 'region-1' })).id;
    clusterId = (await ds.getRepository(Cluster).save({ tenantId, cloudId, name: 'overcloud', currentRevision: 0 })).id;
  });

  afterEach(async () => {
    await sweeper.stop();
    for (const s of streams.splice(0)) s.close();
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis?.disconnect();
    await nc?.close();
    await ds?.destroy();
    await Promise.all([db?.drop(), nats?.stop()]);
  });

  it('refuses enrollment over gRPC with PERMISSION_DENIED and the reason in the triad-reason trailer', async () => {
    const err = await enrollSimulatedAgent(client, issueSecret('enr').secret, 'controller-x').then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err?.metadata.get('triad-reason')).toEqual(['TOKEN_UNKNOWN']);
    expect(err?.details).toMatch(/not known/);
  });

  it('answers Hello with the heartbeat interval and the desired revision, and marks the node ONLINE', async () => {
    const agent = await enrolled();
    expect(agent.response.heartbeatIntervalMs).toBe(INTERVAL_MS);
    expect((await node(agent.nodeId)).status).toBe(NodeStatus.PENDING);
    await ds.getRepository(Cluster).update({ id: clusterId }, { currentRevision: 0 });

    const s = open(agent);
    await s.hello(0, '1.2.3');
    expect((await s.next('settings')).settings?.heartbeatIntervalMs).toBe(INTERVAL_MS);
    expect((await s.next('desired')).desired?.revision).toBe(0);
    const row = await node(agent.nodeId);
    expect(row.status).toBe(NodeStatus.ONLINE);
    expect(row.agentVersion).toBe('1.2.3');
    expect((await transitions(agent.nodeId)).map((e) => e.detail)).toEqual([expect.objectContaining({ from: 'PENDING', to: 'ONLINE' })]);
  });

  it('marks a node ONLINE on Hello even when Redis already (wrongly) says so', async () => {
    const agent = await enrolled();
    await presence.setStatus({ tenantId, nodeId: agent.nodeId }, NodeStatus.ONLINE);
    await greeted(agent);
    expect((await node(agent.nodeId)).status).toBe(NodeStatus.ONLINE);
  });

  it('refuses a stream signed with another key, a replayed nonce, a stale timestamp and a decommissioned node', async () => {
    const agent = await enrolled();
    const forger = generateKeyPairSync('ed25519').privateKey;

    const forged = new SimulatedAgentStream(client, SimulatedAgentStream.metadata(agent.nodeId, forger));
    expect(await forged.ended).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: 'bad signature' });

    const metadata = SimulatedAgentStream.metadata(agent.nodeId, agent.privateKey);
    const first = new SimulatedAgentStream(client, metadata);
    streams.push(first);
    await first.hello();
    await first.next('settings');
    const replay = new SimulatedAgentStream(client, metadata);
    expect(await replay.ended).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/nonce already used/) });

    const stale = open(agent, Date.now() - 2 * AGENT_AUTH_WINDOW_MS);
    expect(await stale.ended).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/outside the allowed window/) });

    await ds.getRepository(Node).update({ id: agent.nodeId }, { status: NodeStatus.DECOMMISSIONED });
    expect(await open(agent).ended).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/decommissioned/) });
  });

  it('closes a stream whose first message is not Hello', async () => {
    const s = open(await enrolled());
    await s.heartbeat(1);
    expect(await s.ended).toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
  });

  it('renews the lease in Redis on every heartbeat without writing Postgres, and writes once when the reported state changes', async () => {
    const agent = await enrolled();
    const s = await greeted(agent);
    const healthy = [{ component: 'haproxy', state: 'COMPONENT_OK' as const, summary: 'up', detailJson: '{"backends":3}' }];
    await s.heartbeat(1, { components: healthy });
    await waitFor('first heartbeat stored', async () => (await presence.latestHeartbeat(agent.nodeId))?.seq === 1);
    const version = await rowVersion(agent.nodeId);
    const auditCount = await ds.getRepository(AuditEvent).countBy({ targetId: agent.nodeId });

    // Same state, changing detail (counters): 30 beats, no row version change.
    for (let seq = 2; seq <= 31; seq++) await s.heartbeat(seq, { components: [{ ...healthy[0], detailJson: `{"backends":3,"sessions":${seq}}` }] });
    await waitFor('all heartbeats handled', async () => (await presence.latestHeartbeat(agent.nodeId))?.seq === 31);
    expect(await rowVersion(agent.nodeId)).toBe(version);
    expect(await ds.getRepository(AuditEvent).countBy({ targetId: agent.nodeId })).toBe(auditCount);
    expect(JSON.parse((await presence.latestHeartbeat(agent.nodeId))?.health ?? '[]')[0].detailJson).toContain('"sessions":31');
    expect(await presence.lastSeen([{ tenantId, nodeId: agent.nodeId }])).toEqual([expect.any(Number)]);

    // A component changing state is a state change: written once.
    await s.heartbeat(32, { components: [{ ...healthy[0], state: 'COMPONENT_DEGRADED' }] });
    await waitFor('health change written', async () => (await rowVersion(agent.nodeId)) !== version);
    const row = await node(agent.nodeId);
    expect(row.health).toMatchObject({ components: [{ component: 'haproxy', state: 'COMPONENT_DEGRADED' }] });
    expect(row.lastHeartbeatAt).not.toBeNull();
  });

  it('marks a silent node SUSPECT, then UNREACHABLE within 3 intervals + 1 s, and ONLINE again on its next heartbeat', async () => {
    const agent = await enrolled();
    const s = await greeted(agent);
    sweeper.start();
    for (let seq = 1; seq <= 3; seq++) {
      await s.heartbeat(seq);
      await new Promise((r) => setTimeout(r, INTERVAL_MS / 2));
    }
    await waitFor('last heartbeat stored', async () => (await presence.latestHeartbeat(agent.nodeId))?.seq === 3);
    const silentSince = (await presence.latestHeartbeat(agent.nodeId))?.at as number;
    expect((await node(agent.nodeId)).status).toBe(NodeStatus.ONLINE);

    // The stream stays open: liveness is the lease, not the connection.
    const statuses: NodeStatus[] = [];
    const unreachableAt = await waitFor(
      'node unreachable',
      async () => {
        const st = (await node(agent.nodeId)).status;
        if (statuses.at(-1) !== st) statuses.push(st);
        return st === NodeStatus.UNREACHABLE ? Date.now() : undefined;
      },
      10_000,
      25,
    );
    expect(statuses).toEqual([NodeStatus.ONLINE, NodeStatus.SUSPECT, NodeStatus.UNREACHABLE]);
    expect(unreachableAt - silentSince).toBeLessThanOrEqual(3 * INTERVAL_MS + 1_000);
    expect(unreachableAt - silentSince).toBeGreaterThanOrEqual(3 * INTERVAL_MS);

    await s.heartbeat(4);
    await waitFor('node back online', async () => (await node(agent.nodeId)).status === NodeStatus.ONLINE, 5_000, 25);
    expect((await transitions(agent.nodeId)).map((e) => `${e.detail.from}->${e.detail.to}`)).toEqual(['PENDING->ONLINE', 'ONLINE->SUSPECT', 'SUSPECT->UNREACHABLE', 'UNREACHABLE->ONLINE']);
  });

  it('does not hold time nobody watched against a node: after a sweeper outage silence counts from its return', async () => {
    const agent = await enrolled();
    const s = await greeted(agent);
    await s.heartbeat(1);
    await waitFor('heartbeat stored', async () => (await presence.latestHeartbeat(agent.nodeId))?.seq === 1);
    await sweeper.tick(); // a sweep happened, then every sweeper was gone for 4 intervals
    await sweeper.stop();
    await new Promise((r) => setTimeout(r, 4 * INTERVAL_MS));

    sweeper.start();
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
    expect((await node(agent.nodeId)).status).toBe(NodeStatus.ONLINE);
    // The agent is still there and beats again: it never went down.
    for (let seq = 2; seq <= 6; seq++) {
      await s.heartbeat(seq);
      await new Promise((r) => setTimeout(r, INTERVAL_MS / 2));
    }
    expect((await transitions(agent.nodeId)).map((e) => `${e.detail.from}->${e.detail.to}`)).toEqual(['PENDING->ONLINE']);
    // Silent from now on: UNREACHABLE on the usual schedule.
    const lastBeat = (await presence.latestHeartbeat(agent.nodeId))?.at as number;
    const unreachableAt = await waitFor('silent node unreachable', async () => ((await node(agent.nodeId)).status === NodeStatus.UNREACHABLE ? Date.now() : undefined), 10_000, 25);
    expect(unreachableAt - lastBeat).toBeLessThanOrEqual(3 * INTERVAL_MS + 1_000);
  });

  it('lets only one sweeper of several sweep, and another take over when it stops', async () => {
    const other = new LivenessSweeper(redis, ds, presence, writer, { heartbeatIntervalMs: INTERVAL_MS, redisPrefix: prefix }, silent);
    await sweeper.tick();
    await other.tick();
    expect([sweeper.isLeader, other.isLeader]).toEqual([true, false]);
    await sweeper.stop();
    await other.tick();
    expect(other.isLeader).toBe(true);
    await other.stop();
  });

  it('writes lastHeartbeatAt of every live node in one batch', async () => {
    const a = await enrolled();
    const b = await enrolled();
    const [sa, sb] = await Promise.all([greeted(a), greeted(b)]);
    await Promise.all([sa.heartbeat(1), sb.heartbeat(1)]);
    await waitFor('heartbeats stored', async () => (await presence.latestHeartbeat(a.nodeId))?.seq === 1 && (await presence.latestHeartbeat(b.nodeId))?.seq === 1);
    const beforeA = (await node(a.nodeId)).lastHeartbeatAt?.getTime() ?? 0;
    expect(await sweeper.flush()).toBeGreaterThanOrEqual(2);
    const leaseA = (await presence.lastSeen([{ tenantId, nodeId: a.nodeId }]))[0] as number;
    expect((await node(a.nodeId)).lastHeartbeatAt?.getTime()).toBe(leaseA);
    expect(leaseA).toBeGreaterThan(beforeA);
    expect((await node(b.nodeId)).lastHeartbeatAt?.getTime()).toBe((await presence.lastSeen([{ tenantId, nodeId: b.nodeId }]))[0]);
  });

  it('restores a lease Redis lost from Postgres, so a node nobody hears from still becomes UNREACHABLE', async () => {
    const agent = await enrolled();
    const s = await greeted(agent);
    await s.heartbeat(1);
    await waitFor('heartbeat stored', async () => (await presence.latestHeartbeat(agent.nodeId))?.seq === 1);
    s.close();
    await redis.zrem(`${prefix}fleet:lastseen`, `${tenantId}:${agent.nodeId}`);
    await redis.hdel(`${prefix}fleet:status`, `${tenantId}:${agent.nodeId}`);
    sweeper.start();
    await waitFor('node unreachable after lease restore', async () => (await node(agent.nodeId)).status === NodeStatus.UNREACHABLE, 10_000, 50);
  });

  it('brings a (re)connecting agent that is behind to the desired revision: Hello issues the command it missed', async () => {
    const spec = labClusterSpec({ addresses: labLoopbackAddresses(3) });
    const behind = (await ds.getRepository(Cluster).save({ tenantId, cloudId, name: `behind-${randomUUID().slice(0, 6)}`, currentRevision: 1 })).id;
    await ds.getRepository(ClusterRevision).save({
      tenantId,
      clusterId: behind,
      revision: 1,
      spec: spec as unknown as Record<string, unknown>,
      specHash: 'f'.repeat(64),
      artifactDigests: { 'controller-1': { 'haproxy.cfg': 'a'.repeat(64) } },
    });
    const agent = await enrollSimulatedAgent(client, await token(1, behind), 'controller-1');
    expect(await ds.getRepository(Command).countBy({ nodeId: agent.nodeId })).toBe(0);

    const s = open(agent);
    await s.hello(0);
    expect((await s.next('desired')).desired?.revision).toBe(1);
    const commands = await waitFor('command issued', async () => {
      const found = await ds.getRepository(Command).findBy({ nodeId: agent.nodeId });
      return found.length > 0 ? found : undefined;
    });
    expect(commands).toEqual([expect.objectContaining({ verb: 'apply_revision', revision: 1, status: CommandStatus.PENDING })]);

    // Reconnecting again while that command is on its way does not issue a second one.
    s.close();
    const again = open(agent);
    await again.hello(0);
    await again.next('desired');
    expect(await ds.getRepository(Command).countBy({ nodeId: agent.nodeId })).toBe(1);

    // The agent's progress reports on the stream move the command row along.
    const cmd = commands[0];
    await again.send({ commandUpdate: { commandId: cmd.id, state: 'COMMAND_RECEIVED', revision: 1, generation: cmd.generation, atMs: Date.now() } });
    await again.send({ commandUpdate: { commandId: cmd.id, state: 'COMMAND_SUCCEEDED', revision: 1, generation: cmd.generation, atMs: Date.now(), artifacts: [{ name: 'haproxy.cfg', sha256: 'a'.repeat(64) }] } });
    await waitFor('command succeeded', async () => (await ds.getRepository(Command).findOneByOrFail({ id: cmd.id })).status === CommandStatus.SUCCEEDED);
    expect((await node(agent.nodeId)).appliedRevision).toBe(1);

    // The heartbeat is the truth about what is applied: an agent that went back to revision 0 says so.
    await again.heartbeat(1, { appliedRevision: 0 });
    await waitFor('rollback recorded', async () => (await node(agent.nodeId)).appliedRevision === 0);
  });

  it('serves TLS when configured: a TLS client enrolls, a plaintext one cannot talk to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triad-grpc-tls-'));
    const tlsServer = new AgentGrpcServer(
      enrollment,
      new AgentStreamService(ds, new AgentAuthenticator(ds, redis, prefix), presence, writer, commands, { heartbeatIntervalMs: INTERVAL_MS }, silent),
      { bind: '127.0.0.1:0', tls: certificatePems(dir) },
      silent,
    );
    const port = await tlsServer.start();
    const ca = readFileSync(join(dir, 'cert.pem'));
    const tlsClient = agentServiceClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(ca));
    const plainClient = agentServiceClient(`127.0.0.1:${port}`);
    try {
      const agent = await enrollSimulatedAgent(tlsClient, await token(), `tls-${randomUUID().slice(0, 6)}`);
      expect(agent.response.nodeId).toBeTruthy();
      const refused = await enrollSimulatedAgent(plainClient, await token(), 'plain').then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      );
      expect(refused?.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      tlsClient.close();
      plainClient.close();
      await tlsServer.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('listens on every address of a comma-separated GRPC_BIND (loopback and a lab gateway): agents enroll through each', async () => {
    const port = await freePort();
    const twoAddresses = new AgentGrpcServer(
      enrollment,
      new AgentStreamService(ds, new AgentAuthenticator(ds, redis, prefix), presence, writer, commands, { heartbeatIntervalMs: INTERVAL_MS }, silent),
      { bind: `127.0.0.1:${port}, 127.0.0.2:${port}` },
      silent,
    );
    expect(await twoAddresses.start()).toBe(port);
    const clients = ['127.0.0.1', '127.0.0.2'].map((host) => agentServiceClient(`${host}:${port}`));
    try {
      for (const [i, c] of clients.entries()) {
        const agent = await enrollSimulatedAgent(c, await token(), `bind-${i}-${randomUUID().slice(0, 6)}`);
        expect(agent.response.nodeId).toBeTruthy();
      }
    } finally {
      for (const c of clients) c.close();
      await twoAddresses.stop();
    }
  });

  it('on shutdown ends open streams with UNAVAILABLE so agents reconnect elsewhere, and stops', async () => {
    const agent = await enrolled();
    const other = new AgentGrpcServer(
      enrollment,
      new AgentStreamService(ds, new AgentAuthenticator(ds, redis, prefix), presence, writer, commands, { heartbeatIntervalMs: INTERVAL_MS }, silent),
      { bind: '127.0.0.1:0', shutdownGraceMs: 2_000 },
      silent,
    );
    const otherClient = agentServiceClient(`127.0.0.1:${await other.start()}`);
    try {
      const s = new SimulatedAgentStream(otherClient, SimulatedAgentStream.metadata(agent.nodeId, agent.privateKey));
      await s.hello();
      await s.next('settings');
      const started = Date.now();
      await other.stop();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await s.ended).toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      otherClient.close();
    }
  });
});
