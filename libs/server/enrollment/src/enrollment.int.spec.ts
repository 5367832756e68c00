import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { createUser } from '@nats-io/nkeys';
import { connect, jwtAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { CommandSigner, commandStreamConfig, ensureCommandStream } from '@triad/commands';
import { storeRevision } from '@triad/clusters';
import { AuditActorType, AuditEvent, Cloud, Cluster, ClusterRevision, createDataSource, EnrollmentToken, hashSecret, issueSecret, Node, NodeStatus, Outbox, OUTBOX_REVISION_CREATED, SYSTEM_ACTOR, Tenant, tenantTransaction } from '@triad/db';
import { validateClusterSpec, type ClusterSpec } from '@triad/spec';
import { createLogger } from '@triad/logging';
import { COMMAND_STREAM, commandConsumerName, commandSubject, type EnrollRequest__Output } from '@triad/protocol';
import { createTestDatabase, startNatsServer, waitFor, type TestDatabase, type TestNatsServer } from '@triad/testing';
import type { DataSource } from 'typeorm';
import { AgentNatsCredentials, natsUserPermissions } from './agent-nats-credentials';
import { EnrollmentRefusedException } from './enrollment.exception';
import { EnrollmentService } from './enrollment.service';

jest.setTimeout(60_000);

const enc = new TextEncoder();
const dec = new TextDecoder();

interface AgentIdentity {
  publicKeyPem: string;
  natsSeed: string;
  natsPublicKey: string;
}

function agentIdentity(): AgentIdentity {
  const { publicKey } = generateKeyPairSync('ed25519');
  const nkey = createUser();
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), natsSeed: dec.decode(nkey.getSeed()), natsPublicKey: nkey.getPublicKey() };
}

function request(token: string, id: AgentIdentity, hostname: string, overrides: Partial<EnrollRequest__Output> = {}): EnrollRequest__Output {
  return {
    token,
    publicKeyPem: id.publicKeyPem,
    natsUserPublicKey: id.natsPublicKey,
    nodeName: '',
    facts: { hostname, machineId: randomUUID().replace(/-/g, ''), addresses: ['10.0.0.1'], agentVersion: '0.1.0', versions: { haproxy: '2.6.12' }, os: 'debian 12' },
    ...overrides,
  };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EnrollmentRefusedException) return e.reason;
    throw e;
  }
  throw new Error('expected the enrollment to be refused');
}

describe(EnrollmentService.name, () => {
  let db: TestDatabase;
  let ds: DataSource;
  let nats: TestNatsServer;
  let cp: NatsConnection;
  let jsm: JetStreamManager;
  let service: EnrollmentService;
  let signer: CommandSigner;
  let tenantId: string;
  let cloudId: string;
  let clusterId: string;

  async function token(opts: { maxUses?: number; expiresInMs?: number; revoked?: boolean; allowNewNodes?: boolean; clusterId?: string } = {}): Promise<string> {
    const secret = issueSecret('enr');
    await ds.getRepository(EnrollmentToken).insert({
      tenantId,
      cloudId,
      clusterId: opts.clusterId ?? clusterId,
      allowNewNodes: opts.allowNewNodes ?? false,
      name: 'test token',
      tokenHash: secret.hash,
      prefix: secret.prefix,
      maxUses: opts.maxUses ?? 1,
      expiresAt: new Date(Date.now() + (opts.expiresInMs ?? 3_600_000)),
      revokedAt: opts.revoked ? new Date() : null,
    });
    return secret.secret;
  }

  beforeAll(async () => {
    [db, nats] = await Promise.all([createTestDatabase('enrollment'), startNatsServer({ jetstream: true, operatorMode: true })]);
    ds = await createDataSource(db.url, { poolSize: 4 }).initialize();
    const creds = nats.controlPlaneCreds as { jwt: string; seed: string };
    cp = await connect({ servers: nats.url, authenticator: jwtAuthenticator(creds.jwt, enc.encode(creds.seed)), maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    jsm = await jetstreamManager(cp);
    signer = CommandSigner.fromPem(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    service = new EnrollmentService(
      ds,
      async () => jsm,
      {
        heartbeatIntervalMs: 5_000,
        natsAgentServers: [nats.url],
        commandSigningPublicKeyPem: signer.publicKeyPem,
        natsCredentials: new AgentNatsCredentials(nats.accountSigningSeed as string, nats.accountPublicKey),
        ensureCommandStream: (m) => ensureCommandStream(m, commandStreamConfig()),
      },
      createLogger('enrollment-test', { level: 'silent' }),
    );
    tenantId = (await ds.getRepository(Tenant).save({ name: 'Acme', slug: `acme-${randomUUID().slice(0, 8)}` })).id;
    cloudId = (await ds.getRepository(Cloud).save({ tenantId, name: 'region-1' })).id;
    clusterId = (await ds.getRepository(Cluster).save({ tenantId, cloudId, name: 'overcloud' })).id;
  });

  afterAll(async () => {
    await cp?.close();
    await ds?.destroy();
    await Promise.all([db?.drop(), nats?.stop()]);
  });

  it('enrolls a node: identity, a PENDING node with its key and facts, an audit event, its own command consumer', async () => {
    const id = agentIdentity();
    const res = await service.enroll(request(await token(), id, 'Controller-1.example.com'));

    expect(res).toMatchObject({ tenantId, clusterId, nodeName: 'controller-1', heartbeatIntervalMs: 5_000, commandSigningPublicKeyPem: signer.publicKeyPem });
    expect(res.nats).toMatchObject({ servers: [nats.url], stream: COMMAND_STREAM, consumer: commandConsumerName(res.nodeId as string), subject: commandSubject(tenantId, res.nodeId as string), inboxPrefix: `_INBOX_${res.nodeId}` });
    const node = await ds.getRepository(Node).findOneByOrFail({ id: res.nodeId });
    expect(node).toMatchObject({ tenantId, clusterId, name: 'controller-1', status: NodeStatus.PENDING, natsUserPublicKey: id.natsPublicKey, agentVersion: '0.1.0' });
    expect(node.publicKeyPem).toBe(id.publicKeyPem);
    expect(node.facts).toMatchObject({ hostname: 'Controller-1.example.com', versions: { haproxy: '2.6.12' } });
    const audit = await ds.getRepository(AuditEvent).findOneByOrFail({ targetId: node.id, action: 'node.enrolled' });
    expect(audit.detail).not.toHaveProperty('token');
    const consumer = await jsm.consumers.info(COMMAND_STREAM, commandConsumerName(node.id));
    expect(consumer.config.filter_subject).toBe(commandSubject(tenantId, node.id));
    expect(consumer.config.durable_name).toBe(commandConsumerName(node.id));
  });

  it("issues a NATS user that can fetch from its own consumer and nothing of another node's", async () => {
    const me = agentIdentity();
    const other = agentIdentity();
    const mine = await service.enroll(request(await token(), me, 'controller-2'));
    const theirs = await service.enroll(request(await token(), other, 'controller-3'));
    const myId = mine.nodeId as string;
    const theirId = theirs.nodeId as string;
    expect(natsUserPermissions(mine.nats?.userJwt as string).subscribe).toEqual([`_INBOX_${myId}.>`]);

    await jetstream(cp).publish(commandSubject(tenantId, myId), 'for me', { msgID: randomUUID() });
    await jetstream(cp).publish(commandSubject(tenantId, theirId), 'for them', { msgID: randomUUID() });

    const agent = await connect({ servers: nats.url, authenticator: jwtAuthenticator(mine.nats?.userJwt as string, enc.encode(me.natsSeed)), inboxPrefix: mine.nats?.inboxPrefix });
    const violations: string[] = [];
    void (async () => {
      for await (const s of agent.status()) if (s.type === 'error') violations.push(String(s.error));
    })();
    try {
      const consumer = await jetstream(agent).consumers.get(COMMAND_STREAM, mine.nats?.consumer as string);
      const batch = await consumer.fetch({ max_messages: 1, expires: 2_000 });
      const got: string[] = [];
      for await (const m of batch) {
        got.push(m.string());
        m.ack();
      }
      expect(got).toEqual(['for me']);

      // Reading another node's subject directly, or its consumer, is refused by the server.
      const sub = agent.subscribe(commandSubject(tenantId, theirId));
      // nats.js resolves `closed` with the server's refusal.
      expect(String(await sub.closed)).toMatch(/permissions violation for subscription/i);
      agent.publish(`$JS.API.CONSUMER.MSG.NEXT.${COMMAND_STREAM}.${commandConsumerName(theirId)}`, '{"batch":1}');
      agent.publish(commandSubject(tenantId, theirId), 'forged');
      await agent.flush();
      await new Promise((r) => setTimeout(r, 200));
      expect(violations.join('\n')).toMatch(/permissions violation for publish to "\$JS\.API\.CONSUMER\.MSG\.NEXT/i);
      expect(violations.join('\n')).toMatch(new RegExp(`permissions violation for publish to "cmd\\.${tenantId}\\.${theirId}"`, 'i'));
    } finally {
      await agent.close();
    }
  });

  it('refuses an unknown, an expired and a revoked token, each with its reason', async () => {
    const id = agentIdentity();
    expect(await refusal(service.enroll(request(issueSecret('enr').secret, id, 'controller-4')))).toBe('TOKEN_UNKNOWN');
    expect(await refusal(service.enroll(request('not-a-token', id, 'controller-4')))).toBe('TOKEN_UNKNOWN');
    expect(await refusal(service.enroll(request(await token({ expiresInMs: -1_000 }), id, 'controller-4')))).toBe('TOKEN_EXPIRED');
    expect(await refusal(service.enroll(request(await token({ revoked: true }), id, 'controller-4')))).toBe('TOKEN_REVOKED');
    expect(await ds.getRepository(Node).countBy({ clusterId, name: 'controller-4' })).toBe(0);
  });

  it('refuses a token whose uses are spent', async () => {
    const secret = await token({ maxUses: 1 });
    await service.enroll(request(secret, agentIdentity(), 'controller-5'));
    expect(await refusal(service.enroll(request(secret, agentIdentity(), 'controller-6')))).toBe('TOKEN_EXHAUSTED');
  });

  it('lets exactly one of two agents racing for the last use enroll', async () => {
    const secret = await token({ maxUses: 1 });
    const results = await Promise.allSettled([service.enroll(request(secret, agentIdentity(), 'race-a')), service.enroll(request(secret, agentIdentity(), 'race-b'))]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0].reason as EnrollmentRefusedException).reason).toBe('TOKEN_EXHAUSTED');
    const used = await ds.getRepository(EnrollmentToken).findOneByOrFail({ tokenHash: hashSecret(secret) });
    expect(used.uses).toBe(1);
    expect(await ds.getRepository(Node).countBy([{ clusterId, name: 'race-a' }, { clusterId, name: 'race-b' }])).toBe(1);
  });

  it('refuses a taken node name, but gives an agent that retries with its own key the same identity without using the token again', async () => {
    const id = agentIdentity();
    const secret = await token({ maxUses: 2 });
    const first = await service.enroll(request(secret, id, 'controller-7'));
    const retry = await service.enroll(request(secret, id, 'controller-7'));
    expect(retry.nodeId).toBe(first.nodeId);
    expect(await refusal(service.enroll(request(secret, agentIdentity(), 'controller-7')))).toBe('NODE_NAME_TAKEN');
    expect((await ds.getRepository(EnrollmentToken).findOneByOrFail({ tokenHash: hashSecret(secret) })).uses).toBe(1);
  });

  it("refuses a 'retry' that presents the node's public key with another NATS key (no credentials for an impostor)", async () => {
    const id = agentIdentity();
    const secret = await token({ maxUses: 1 });
    await service.enroll(request(secret, id, 'controller-impostor'));
    const impostor = agentIdentity();
    expect(await refusal(service.enroll(request(secret, id, 'controller-impostor', { natsUserPublicKey: impostor.natsPublicKey })))).toBe('NODE_NAME_TAKEN');
  });

  it('when NATS is down after the node is stored, the agent retry completes the enrollment without another use', async () => {
    const id = agentIdentity();
    const secret = await token({ maxUses: 1 });
    await nats.down();
    try {
      await expect(service.enroll(request(secret, id, 'controller-9'))).rejects.not.toBeInstanceOf(EnrollmentRefusedException);
    } finally {
      await nats.up();
    }
    const node = await ds.getRepository(Node).findOneByOrFail({ clusterId, name: 'controller-9' });
    const retried = await waitFor('enrollment after NATS is back', () => service.enroll(request(secret, id, 'controller-9')).catch(() => undefined), 20_000, 250);
    expect(retried.nodeId).toBe(node.id);
    expect(await jsm.consumers.info(COMMAND_STREAM, commandConsumerName(node.id))).toBeTruthy();
    expect((await ds.getRepository(EnrollmentToken).findOneByOrFail({ tokenHash: hashSecret(secret) })).uses).toBe(1);
  });

  it('refuses a request with a key that is not ed25519, or without facts', async () => {
    const secret = await token();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await refusal(service.enroll(request(secret, agentIdentity(), 'controller-8', { publicKeyPem: rsa })))).toBe('INVALID_REQUEST');
    expect(await refusal(service.enroll(request(secret, agentIdentity(), 'controller-8', { publicKeyPem: 'garbage' })))).toBe('INVALID_REQUEST');
    expect(await refusal(service.enroll(request(secret, agentIdentity(), 'controller-8', { facts: null })))).toBe('INVALID_REQUEST');
    expect(await refusal(service.enroll(request(secret, agentIdentity(), 'controller-8', { natsUserPublicKey: 'Unot-a-key' })))).toBe('INVALID_REQUEST');
    // None of these consumed the token.
    await expect(service.enroll(request(secret, agentIdentity(), 'controller-8'))).resolves.toMatchObject({ nodeName: 'controller-8' });
  });

  describe('scale-out (a token that allows new nodes)', () => {
    /** A cluster at revision 1 with three controllers on 172.16.2.0/24; `acknowledged` codes added. */
    async function runningCluster(acknowledged: string[]): Promise<string> {
      const id = (await ds.getRepository(Cluster).save({ tenantId, cloudId, name: `grow-${randomUUID().slice(0, 8)}` })).id;
      const { spec, problems } = validateClusterSpec({
        apiVersion: 'triad.io/v1',
        metadata: { name: 'grow' },
        topology: {
          mode: 'ACTIVE_ACTIVE',
          nodes: [1, 2, 3].map((i) => ({ name: `controller-${i}`, managementAddress: `172.16.2.1${i}`, internalAddress: `172.16.2.1${i}` })),
          networks: { public: { cidr: '10.20.0.0/24' }, internal: { cidr: '172.16.2.0/24' } },
        },
        services: [{ name: 'keystone', vip: '10.20.0.10' }],
        galera: { vip: '172.16.2.100' },
        rabbitmq: { erlangCookie: { secretRef: 'cookie' } },
        pacemaker: { properties: { stonithEnabled: false } },
        acknowledgedWarnings: ['STONITH_DISABLED', ...acknowledged],
      });
      if (!spec) throw new Error(JSON.stringify(problems));
      await tenantTransaction(ds, tenantId, (trx) =>
        storeRevision(trx, tenantId, { clusterId: id, spec, expectedRevision: 0, maxUnavailable: 1, createdByTokenId: null, actor: SYSTEM_ACTOR, audit: { action: 'cluster.spec.updated' } }),
      );
      return id;
    }

    function withAddresses(secret: string, name: string, addresses: string[], id = agentIdentity()): EnrollRequest__Output {
      const req = request(secret, id, name);
      return { ...req, facts: { ...(req.facts as NonNullable<EnrollRequest__Output['facts']>), addresses } };
    }

    const revisionOf = async (id: string) => (await ds.getRepository(Cluster).findOneByOrFail({ id })).currentRevision;

    it('appends a node the spec does not list as the next revision, with its internal address, its rollout queued and the token as the audited actor', async () => {
      const grow = await runningCluster(['EVEN_GALERA_MEMBERSHIP']);
      const secret = await token({ allowNewNodes: true, clusterId: grow });
      const id = agentIdentity();
      const res = await service.enroll(withAddresses(secret, 'controller-4', ['10.99.0.4', '172.16.2.14'], id));

      expect(res).toMatchObject({ clusterId: grow, nodeName: 'controller-4' });
      expect(await revisionOf(grow)).toBe(2);
      const revision = await ds.getRepository(ClusterRevision).findOneByOrFail({ clusterId: grow, revision: 2 });
      const spec = revision.spec as unknown as ClusterSpec;
      expect(spec.topology.nodes.at(-1)).toEqual({ name: 'controller-4', managementAddress: '172.16.2.14', internalAddress: '172.16.2.14' });
      expect(Object.keys(revision.artifactDigests)).toContain('controller-4');
      expect(await ds.getRepository(Outbox).countBy({ aggregateId: grow, kind: OUTBOX_REVISION_CREATED })).toBe(2);
      const tokenRow = await ds.getRepository(EnrollmentToken).findOneByOrFail({ tokenHash: hashSecret(secret) });
      const audit = await ds.getRepository(AuditEvent).findOneByOrFail({ targetId: grow, action: 'cluster.spec.node_added' });
      expect(audit).toMatchObject({ actorType: AuditActorType.ENROLLMENT_TOKEN, actorId: tokenRow.id, detail: expect.objectContaining({ revision: 2 }) });

      // The agent retrying its enrollment adds nothing more.
      const again = await service.enroll(withAddresses(secret, 'controller-4', ['10.99.0.4', '172.16.2.14'], id));
      expect(again.nodeId).toBe(res.nodeId);
      expect(await revisionOf(grow)).toBe(2);
    });

    it('refuses with CANNOT_JOIN, saying why, when the spec with the node would be invalid (even Galera membership not acknowledged): no node, no revision, the use given back', async () => {
      const grow = await runningCluster([]);
      const secret = await token({ allowNewNodes: true, clusterId: grow });
      const err = await service.enroll(withAddresses(secret, 'controller-4', ['172.16.2.14'])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EnrollmentRefusedException);
      expect((err as EnrollmentRefusedException).reason).toBe('CANNOT_JOIN');
      expect((err as Error).message).toMatch(/not in cluster grow-\w+'s spec \(revision 1\) and cannot be added: the spec with it would be invalid — galera: Galera has 4 members/);
      expect(await revisionOf(grow)).toBe(1);
      expect(await ds.getRepository(Node).countBy({ clusterId: grow })).toBe(0);
      expect((await ds.getRepository(EnrollmentToken).findOneByOrFail({ tokenHash: hashSecret(secret) })).uses).toBe(0);
    });

    it('refuses a node with no address inside the internal network', async () => {
      const grow = await runningCluster(['EVEN_GALERA_MEMBERSHIP']);
      const secret = await token({ allowNewNodes: true, clusterId: grow });
      const err = await service.enroll(withAddresses(secret, 'controller-4', ['10.99.0.4'])).catch((e: unknown) => e);
      expect((err as EnrollmentRefusedException).reason).toBe('CANNOT_JOIN');
      expect((err as Error).message).toMatch(/none of the node's addresses \(10\.99\.0\.4\) is a free address in the internal network 172\.16\.2\.0\/24/);
      expect(await revisionOf(grow)).toBe(1);
    });

    it('leaves the spec alone with a token that does not allow new nodes, and for a node the spec already lists', async () => {
      const grow = await runningCluster(['EVEN_GALERA_MEMBERSHIP']);
      await service.enroll(withAddresses(await token({ clusterId: grow }), 'controller-4', ['172.16.2.14']));
      await service.enroll(withAddresses(await token({ allowNewNodes: true, clusterId: grow }), 'controller-1', ['172.16.2.11']));
      expect(await revisionOf(grow)).toBe(1);
      expect(await ds.getRepository(Node).countBy({ clusterId: grow })).toBe(2);
    });
  });
});
