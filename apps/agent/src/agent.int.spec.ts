import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { encodeUser, fromSeed } from '@nats-io/jwt';
import { connect, jwtAuthenticator, nanos, type NatsConnection } from '@nats-io/transport-node';
import { Agent, loadAgentConfig, type AgentConfig } from '@triad/agent-core';
import { HaproxyDriver } from '@triad/agent-drivers';
import { createLogger } from '@triad/logging';
import {
  agentInboxPrefix,
  CHANGED_ON_DISK,
  agentNatsPermissions,
  COMMAND_STREAM,
  commandConsumerName,
  commandSubject,
  loadAgentProto,
  publicKeyFromPem,
  signCommand,
  verifyAgentAuth,
  type AgentMessage__Output,
  type CommandEnvelope,
  type CommandUpdate__Output,
  type EnrollRequest__Output,
  type Heartbeat__Output,
  type Hello__Output,
} from '@triad/protocol';
import { renderHaproxyCfg } from '@triad/render';
import { validateClusterSpec, type ClusterSpecInput } from '@triad/spec';
import { freePort, httpGetText, selfSignedCertificate, startNatsServer, startTsProcess, waitFor, type SelfSignedCertificate, type TestNatsServer } from '@triad/testing';

jest.setTimeout(60_000);

const logger = createLogger('agent-test', { level: 'silent' });
const TOKEN = 'enroll-token-0123456789abcdef';
const tenantId = randomUUID();
const clusterId = randomUUID();
const nodeId = randomUUID();

/**
 * A control plane in this process speaking the real proto: Enroll (mints a NATS user JWT limited
 * to the node's consumer, like the real one) and Connect (checks the signed metadata, records
 * what the agent says, sets a short heartbeat interval).
 */
class RecordingControlPlane {
  enrollRequests: EnrollRequest__Output[] = [];
  hellos: Hello__Output[] = [];
  heartbeats: Heartbeat__Output[] = [];
  updates: CommandUpdate__Output[] = [];
  agentPublicKey: KeyObject | undefined;
  private server: grpc.Server | undefined;

  constructor(
    private readonly nats: TestNatsServer,
    readonly commandPublicKeyPem: string,
    readonly port: number,
    private readonly tls: SelfSignedCertificate,
  ) {}

  async start(): Promise<void> {
    const proto = loadAgentProto();
    const server = new grpc.Server();
    server.addService(proto.triad.agent.v1.AgentService.service, {
      Enroll: (call: grpc.ServerUnaryCall<EnrollRequest__Output, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        this.enrollRequests.push(call.request);
        if (call.request.token !== TOKEN) {
          const trailer = new grpc.Metadata();
          trailer.set('triad-reason', 'TOKEN_EXPIRED');
          cb({ code: grpc.status.PERMISSION_DENIED, details: 'enrollment token expired', metadata: trailer });
          return;
        }
        this.agentPublicKey = publicKeyFromPem(call.request.publicKeyPem);
        const perms = agentNatsPermissions(nodeId);
        const signer = fromSeed(new TextEncoder().encode(this.nats.accountSigningSeed as string));
        void encodeUser(`node-${nodeId}`, call.request.natsUserPublicKey, this.nats.accountPublicKey as string, { pub: { allow: perms.publish }, sub: { allow: perms.subscribe } }, { signer }).then((userJwt) =>
          cb(null, {
            nodeId,
            tenantId,
            clusterId,
            nodeName: call.request.nodeName,
            commandSigningPublicKeyPem: this.commandPublicKeyPem,
            heartbeatIntervalMs: 1_000,
            nats: {
              servers: [this.nats.url],
              userJwt,
              stream: COMMAND_STREAM,
              consumer: commandConsumerName(nodeId),
              subject: commandSubject(tenantId, nodeId),
              inboxPrefix: agentInboxPrefix(nodeId),
            },
          }),
        );
      },
      Connect: (call: grpc.ServerDuplexStream<AgentMessage__Output, unknown>) => {
        const md = (k: string) => call.metadata.get(k)[0]?.toString();
        const auth = this.agentPublicKey
          ? verifyAgentAuth({ nodeId: md('triad-node-id'), timestamp: md('triad-ts'), nonce: md('triad-nonce'), signature: md('triad-sig') }, this.agentPublicKey)
          : { ok: false as const, reason: 'unknown node' };
        if (!auth.ok) {
          call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: auth.reason });
          return;
        }
        call.on('data', (m: AgentMessage__Output) => {
          if (m.hello) {
            this.hellos.push(m.hello);
            call.write({ settings: { heartbeatIntervalMs: 300 } });
          }
          if (m.heartbeat) this.heartbeats.push(m.heartbeat);
          if (m.commandUpdate) this.updates.push(m.commandUpdate);
        });
        call.on('end', () => call.end());
        call.on('error', () => undefined);
      },
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(
        `127.0.0.1:${this.port}`,
        grpc.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(this.tls.certFile), private_key: readFileSync(this.tls.keyFile) }], false),
        (e) => (e ? reject(e) : resolve()),
      ),
    );
    this.server = server;
  }

  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }

  updatesFor(commandId: string): CommandUpdate__Output[] {
    return this.updates.filter((u) => u.commandId === commandId);
  }
}

describe(Agent.name, () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let controlPlane: RecordingControlPlane;
  let commandKey: KeyObject;
  let dir: string;
  let config: AgentConfig;
  let agent: Agent;
  const backends: Server[] = [];
  let backendPort: number;
  let keystonePort: number;
  let specInput: ClusterSpecInput;
  let haproxyDigest: string;
  let generation = 10;

  function envelope(overrides: Partial<CommandEnvelope> = {}): CommandEnvelope {
    const now = Date.now();
    return {
      v: 1,
      id: randomUUID(),
      tenantId,
      nodeId,
      generation: ++generation,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 600_000).toISOString(),
      verb: 'apply_revision',
      params: { clusterId, revision: 1, nodeName: 'controller-1', spec: specInput, artifacts: [{ name: 'haproxy.cfg', sha256: haproxyDigest }] },
      ...overrides,
    };
  }

  async function publish(wire: unknown): Promise<void> {
    await jetstream(nc).publish(commandSubject(tenantId, nodeId), JSON.stringify(wire), { msgID: randomUUID() });
  }

  function agentEnv(): Record<string, string> {
    return {
      TRIAD_CONTROL_PLANE: `127.0.0.1:${controlPlane.port}`,
      TRIAD_GRPC_TLS_CA_FILE: join(dir, 'tls', 'cert.pem'),
      TRIAD_STATE_DIR: join(dir, 'state'),
      TRIAD_NODE_NAME: 'controller-1',
      TRIAD_HAPROXY_MODE: 'managed',
      TRIAD_HAPROXY_CONFIG: join(dir, 'haproxy', 'haproxy.cfg'),
      TRIAD_HAPROXY_STATS_SOCKET: join(dir, 'haproxy', 'stats.sock'),
      TRIAD_HAPROXY_BIND_ADDRESS: '127.0.0.1',
      // The rendered maxconn needs more open files than this machine allows.
      TRIAD_HAPROXY_MAXCONN: '4000',
    };
  }

  function startAgent(env: Record<string, string> = {}): Promise<void> {
    config = loadAgentConfig({ ...agentEnv(), ...env });
    const haproxy = new HaproxyDriver({ ...config.haproxy, logger, checkTimeoutMs: 5_000 });
    agent = new Agent(config, [haproxy], logger);
    return agent.start();
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'triad-agent-'));
    mkdirSync(join(dir, 'haproxy'));
    nats = await startNatsServer({ jetstream: true, operatorMode: true });
    const creds = nats.controlPlaneCreds as { jwt: string; seed: string };
    nc = await connect({ servers: nats.url, authenticator: jwtAuthenticator(creds.jwt, new TextEncoder().encode(creds.seed)) });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: COMMAND_STREAM, subjects: ['cmd.>'] });
    await jsm.consumers.add(COMMAND_STREAM, {
      durable_name: commandConsumerName(nodeId),
      filter_subject: commandSubject(tenantId, nodeId),
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(30_000),
      max_deliver: 10,
    });

    const keys = generateKeyPairSync('ed25519');
    commandKey = keys.privateKey;
    const tls = selfSignedCertificate(join(dir, 'tls'), { ips: ['127.0.0.1'] });
    controlPlane = new RecordingControlPlane(nats, keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), await freePort(), tls);
    await controlPlane.start();

    // One keystone per controller, each on its own loopback address, all on the same port.
    const addresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
    backendPort = await freePort();
    for (const address of addresses) {
      const backend = createServer((_req, res) => res.end('keystone says hi'));
      await new Promise<void>((resolve) => backend.listen(backendPort, address, resolve));
      backends.push(backend);
    }
    keystonePort = await freePort();
    specInput = {
      apiVersion: 'triad.io/v1',
      metadata: { name: 'agent-test' },
      topology: {
        mode: 'ACTIVE_ACTIVE',
        nodes: addresses.map((address, i) => ({ name: `controller-${i + 1}`, managementAddress: address, internalAddress: address })),
        networks: { public: { cidr: '127.0.0.0/8', vip: '127.0.0.100' }, internal: { cidr: '127.0.0.0/8', vip: '127.0.0.101' } },
      },
      services: [{ name: 'keystone', port: keystonePort, backendPort, healthCheckPath: '/' }],
      galera: { port: await freePort() },
      rabbitmq: { erlangCookie: { secretRef: 'rabbitmq-erlang-cookie' } },
      pacemaker: { properties: { stonithEnabled: false } },
      acknowledgedWarnings: ['STONITH_DISABLED'],
    };
    const { spec, problems } = validateClusterSpec(specInput);
    if (!spec) throw new Error(`test spec invalid: ${JSON.stringify(problems)}`);
    haproxyDigest = renderHaproxyCfg(spec, 'controller-1').sha256;

    await startAgent({ TRIAD_ENROLLMENT_TOKEN: TOKEN });
  });

  afterAll(async () => {
    await agent?.stop();
    controlPlane?.stop();
    await nc?.close();
    await nats?.stop();
    for (const b of backends) b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('enrolls with the token and keeps its identity private, without the token', () => {
    expect(controlPlane.enrollRequests).toHaveLength(1);
    const req = controlPlane.enrollRequests[0];
    expect(req.nodeName).toBe('controller-1');
    expect(req.natsUserPublicKey).toMatch(/^U/);
    expect(req.facts?.versions.haproxy).toMatch(/^2\.6/);
    const identityFile = join(dir, 'state', 'identity.json');
    expect(statSync(identityFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    const text = readFileSync(identityFile, 'utf8');
    expect(text).not.toContain(TOKEN);
    expect(JSON.parse(text).enrollment.nodeId).toBe(nodeId);
  });

  it('applies a signed apply_revision: haproxy serves the service and the result carries the revision digests', async () => {
    const cmd = envelope();
    await publish(signCommand(cmd, commandKey, 'test'));

    const updates = await waitFor('command finished', () => {
      const u = controlPlane.updatesFor(cmd.id);
      return u.some((x) => x.state === 'COMMAND_SUCCEEDED' || x.state === 'COMMAND_FAILED') && u;
    });
    expect(updates.map((u) => `${u.state} ${u.message}`.trim())).toEqual(['COMMAND_RECEIVED', 'COMMAND_RUNNING', 'COMMAND_SUCCEEDED revision 1 applied: haproxy.cfg']);
    expect(updates[2]).toMatchObject({ revision: 1, generation: cmd.generation, artifacts: [{ name: 'haproxy.cfg', sha256: haproxyDigest }] });
    expect(await httpGetText(keystonePort)).toBe('200 keystone says hi');

    const hb = await waitFor('heartbeat after apply', () => controlPlane.heartbeats.slice().reverse().find((h) => h.appliedRevision === 1));
    expect(hb.appliedArtifacts).toEqual([{ name: 'haproxy.cfg', sha256: haproxyDigest }]);
    expect(hb.components.find((c) => c.component === 'haproxy')?.detailJson).toContain('"name":"keystone","status":"OPEN"');
  });

  it('reports haproxy.cfg edited behind its back as changed on disk, and the re-applied revision puts it right', async () => {
    const cfg = join(dir, 'haproxy', 'haproxy.cfg');
    const rendered = readFileSync(cfg, 'utf8');
    const edited = `${rendered}\n# added by hand\n`;
    writeFileSync(cfg, edited);
    const changedAt = controlPlane.heartbeats.length;
    const drifted = await waitFor('a heartbeat reporting the edit', () => controlPlane.heartbeats.slice(changedAt).find((h) => h.appliedArtifacts[0]?.sha256 !== haproxyDigest));
    expect(drifted.appliedArtifacts).toEqual([{ name: 'haproxy.cfg', sha256: `${CHANGED_ON_DISK}${createHash('sha256').update(edited).digest('hex')}` }]);
    expect(drifted.appliedRevision).toBe(1);

    const cmd = envelope();
    await publish(signCommand(cmd, commandKey, 'test'));
    await waitFor('re-apply finished', () => controlPlane.updatesFor(cmd.id).some((u) => u.state === 'COMMAND_SUCCEEDED'));
    expect(readFileSync(cfg, 'utf8')).toBe(rendered);
    const reappliedAt = controlPlane.heartbeats.length;
    const hb = await waitFor('a heartbeat after the re-apply', () => controlPlane.heartbeats[reappliedAt]);
    expect(hb.appliedArtifacts).toEqual([{ name: 'haproxy.cfg', sha256: haproxyDigest }]);
  });

  it('refuses a replayed command id without running it again', async () => {
    const cmd = envelope();
    const wire = signCommand(cmd, commandKey, 'test');
    await publish(wire);
    await waitFor('first run', () => controlPlane.updatesFor(cmd.id).some((u) => u.state === 'COMMAND_SUCCEEDED'));
    await publish(wire);

    const refusal = await waitFor('replay refused', () => controlPlane.updatesFor(cmd.id).find((u) => u.state === 'COMMAND_REFUSED'));
    expect(refusal.reason).toBe('REPLAYED');
    expect(controlPlane.updatesFor(cmd.id).filter((u) => u.state === 'COMMAND_RUNNING')).toHaveLength(1);
  });

  it('refuses an expired command', async () => {
    const cmd = envelope({ expiresAt: new Date(Date.now() - 1_000).toISOString() });
    await publish(signCommand(cmd, commandKey, 'test'));
    const refusal = await waitFor('expired refused', () => controlPlane.updatesFor(cmd.id).find((u) => u.state === 'COMMAND_REFUSED'));
    expect(refusal.reason).toBe('EXPIRED');
  });

  it('refuses a generation lower than one already applied', async () => {
    const cmd = envelope({ generation: 3 });
    await publish(signCommand(cmd, commandKey, 'test'));
    const refusal = await waitFor('stale refused', () => controlPlane.updatesFor(cmd.id).find((u) => u.state === 'COMMAND_REFUSED'));
    expect(refusal).toMatchObject({ reason: 'STALE_GENERATION', generation: 3 });
  });

  it('refuses a command signed by any other key, without settling the command id it claims', async () => {
    const forger = generateKeyPairSync('ed25519').privateKey;
    const cmd = envelope();
    await publish(signCommand(cmd, forger, 'test'));
    const refusal = await waitFor('forgery refused', () => controlPlane.updates.find((u) => u.reason === 'BAD_SIGNATURE'));
    expect(refusal).toMatchObject({ state: 'COMMAND_REFUSED', commandId: '' });
    expect(refusal.message).toContain(cmd.id);
    expect(controlPlane.updatesFor(cmd.id)).toEqual([]);
  });

  it('refuses a signed command addressed to another node, and one whose parameters break the verb schema', async () => {
    const elsewhere = envelope({ nodeId: randomUUID() });
    const malformed = envelope({ params: { clusterId, revision: -1, nodeName: 'controller-1', spec: specInput, artifacts: [] } });
    await publish(signCommand(elsewhere, commandKey, 'test'));
    await publish(signCommand(malformed, commandKey, 'test'));

    const wrongNode = await waitFor('wrong node refused', () => controlPlane.updatesFor(elsewhere.id).find((u) => u.state === 'COMMAND_REFUSED'));
    const badParams = await waitFor('bad params refused', () => controlPlane.updatesFor(malformed.id).find((u) => u.state === 'COMMAND_REFUSED'));
    expect(wrongNode.reason).toBe('WRONG_NODE');
    expect(badParams).toMatchObject({ reason: 'BAD_PARAMS', message: expect.stringContaining('params.revision') });
  });

  it('fails a revision whose digest this renderer does not produce, leaving haproxy as it was', async () => {
    const cmd = envelope({ params: { clusterId, revision: 2, nodeName: 'controller-1', spec: specInput, artifacts: [{ name: 'haproxy.cfg', sha256: 'f'.repeat(64) }] } });
    await publish(signCommand(cmd, commandKey, 'test'));
    const failed = await waitFor('skew failure', () => controlPlane.updatesFor(cmd.id).find((u) => u.state === 'COMMAND_FAILED'));
    expect(failed.message).toMatch(/renderer version skew/);
    expect(await httpGetText(keystonePort)).toBe('200 keystone says hi');
  });

  it('keeps updates while the control plane is unreachable and delivers them when it is back', async () => {
    controlPlane.stop();
    const cmd = envelope({ expiresAt: new Date(Date.now() - 1_000).toISOString() });
    await publish(signCommand(cmd, commandKey, 'test'));
    await waitFor('update persisted', () => readFileSync(join(dir, 'state', 'pending-updates.jsonl'), 'utf8').includes(cmd.id));
    expect(controlPlane.updatesFor(cmd.id)).toEqual([]);

    await controlPlane.start();
    const refusal = await waitFor('update delivered after reconnect', () => controlPlane.updatesFor(cmd.id).find((u) => u.state === 'COMMAND_REFUSED'), 30_000);
    expect(refusal.reason).toBe('EXPIRED');
    await waitFor('outbox drained', () => readFileSync(join(dir, 'state', 'pending-updates.jsonl'), 'utf8') === '');
  });

  it('keeps taking commands after the NATS server restarts', async () => {
    await nats.restart();
    const cmd = envelope({ expiresAt: new Date(Date.now() - 1_000).toISOString() });
    await waitFor('command published after restart', () => publish(signCommand(cmd, commandKey, 'test')).then(() => true), 15_000, 250);
    const refusal = await waitFor('command handled after NATS restart', () => controlPlane.updatesFor(cmd.id).find((u) => u.state === 'COMMAND_REFUSED'), 30_000);
    expect(refusal.reason).toBe('EXPIRED');
  });

  it('restarts from its saved identity without a token and says what it has applied', async () => {
    await agent.stop();
    const hellosBefore = controlPlane.hellos.length;
    await startAgent();
    expect(controlPlane.enrollRequests).toHaveLength(1);
    const hello = await waitFor('hello after restart', () => controlPlane.hellos[hellosBefore]);
    expect(hello).toMatchObject({ appliedRevision: 1, appliedArtifacts: [{ name: 'haproxy.cfg', sha256: haproxyDigest }] });
    expect(await httpGetText(keystonePort)).toBe('200 keystone says hi');
  });

  it('runs as a process, and on SIGTERM stops its haproxy and exits 0', async () => {
    await agent.stop();
    await expect(httpGetText(keystonePort)).rejects.toThrow(/ECONNREFUSED/);
    const hellosBefore = controlPlane.hellos.length;
    const proc = startTsProcess({ name: 'agent', entry: 'apps/agent/src/main.ts', logFile: join(dir, 'agent-process.log'), env: agentEnv() });
    try {
      await waitFor('hello from the agent process', () => controlPlane.hellos.length > hellosBefore, 30_000);
      await waitFor('haproxy of the agent process serving', () => httpGetText(keystonePort).catch(() => undefined), 10_000);
      expect(await proc.stop('SIGTERM', 15_000)).toBe(0);
    } finally {
      await proc.stop('SIGKILL');
    }
    await expect(httpGetText(keystonePort)).rejects.toThrow(/ECONNREFUSED/);
    expect(proc.log()).toContain('"msg":"agent stopped"');
  });

  it('exits with code 2 saying why when enrollment is refused', async () => {
    const proc = startTsProcess({
      name: 'agent-refused',
      entry: 'apps/agent/src/main.ts',
      logFile: join(dir, 'refused.log'),
      env: {
        TRIAD_CONTROL_PLANE: `127.0.0.1:${controlPlane.port}`,
        TRIAD_GRPC_TLS_CA_FILE: join(dir, 'tls', 'cert.pem'),
        TRIAD_ENROLLMENT_TOKEN: 'a-stale-token',
        TRIAD_STATE_DIR: join(dir, 'refused-state'),
        TRIAD_NODE_NAME: 'controller-2',
        TRIAD_HAPROXY_CONFIG: join(dir, 'refused-haproxy.cfg'),
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([proc.exited, new Promise<string>((r) => (timer = setTimeout(() => r('timeout'), 40_000)))]);
    clearTimeout(timer);
    if (code === 'timeout') await proc.stop('SIGKILL');
    expect(code).toBe(2);
    expect(proc.log()).toContain('enrollment refused: the token has expired');
    expect(proc.log()).not.toContain('a-stale-token');
  });
});
