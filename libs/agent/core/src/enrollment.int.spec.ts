import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '@triad/logging';
import { loadAgentProto, type EnrollRequest__Output, type EnrollResponse } from '@triad/protocol';
import { freePort, selfSignedCertificate } from '@triad/testing';
import { createControlPlaneClient } from './control-plane-client';
import { EnrollmentRefusedError, loadOrEnroll } from './enrollment';
import { IdentityStore } from './identity';

const logger = createLogger('enrollment-test', { level: 'silent' });
const NODE_ID = '6f1c2a9e-1d3b-4c55-9a77-0d2f5e8b9c10';

/** A TLS gRPC server whose Enroll answers from `answer`. */
async function startEnrollServer(port: number, dir: string, answer: (req: EnrollRequest__Output) => EnrollResponse | { refuse: string }, plaintext = false): Promise<grpc.Server> {
  const proto = loadAgentProto();
  const server = new grpc.Server();
  server.addService(proto.triad.agent.v1.AgentService.service, {
    Enroll: (call: grpc.ServerUnaryCall<EnrollRequest__Output, EnrollResponse>, cb: grpc.sendUnaryData<EnrollResponse>) => {
      const a = answer(call.request);
      if ('refuse' in a) {
        const metadata = new grpc.Metadata();
        metadata.set('triad-reason', a.refuse);
        cb({ code: grpc.status.PERMISSION_DENIED, details: `${a.refuse}: refused`, metadata });
      } else cb(null, a);
    },
    Connect: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
  });
  const creds = plaintext
    ? grpc.ServerCredentials.createInsecure()
    : grpc.ServerCredentials.createSsl(null, [{ private_key: readFileSync(join(dir, 'key.pem')), cert_chain: readFileSync(join(dir, 'cert.pem')) }]);
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, creds, (e) => (e ? reject(e) : resolve())));
  return server;
}

describe(loadOrEnroll.name, () => {
  let dir: string;
  let port: number;
  let server: grpc.Server | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'triad-enroll-'));
    // A self-signed certificate for "localhost": it is also the CA the agent is told to trust.
    selfSignedCertificate(dir, { dns: ['localhost'], days: 1 });
  });
  beforeEach(async () => (port = await freePort()));
  afterEach(() => server?.forceShutdown());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function enroll(stateDir: string, token: string | undefined, signal = new AbortController().signal, trust: { grpcTlsCaFile?: string; grpcInsecure?: boolean } = { grpcTlsCaFile: join(dir, 'cert.pem') }) {
    const client = createControlPlaneClient({ controlPlane: `localhost:${port}`, ...trust });
    return loadOrEnroll({
      client,
      store: new IdentityStore(stateDir),
      token,
      nodeName: 'controller-1',
      facts: async () => ({ hostname: 'h', machineId: 'm', addresses: [], agentVersion: 'test', versions: {}, os: 'linux' }),
      logger,
      signal,
    }).finally(() => client.close());
  }

  it('enrolls over TLS once the control plane comes up, and keeps the keys it enrolled with', async () => {
    const stateDir = join(dir, 'late');
    mkdirSync(stateDir);
    let seen: EnrollRequest__Output | undefined;
    const pending = enroll(stateDir, 'tok');
    await new Promise((r) => setTimeout(r, 1_000)); // the agent is retrying meanwhile
    server = await startEnrollServer(port, dir, (req) => {
      seen = req;
      return { nodeId: NODE_ID, tenantId: NODE_ID, clusterId: '', nodeName: req.nodeName, commandSigningPublicKeyPem: req.publicKeyPem, heartbeatIntervalMs: 1000, nats: { servers: ['nats://x:4222'], stream: 'S', consumer: 'C', subject: 'cmd.a.b', inboxPrefix: '_INBOX_x', userJwt: '' } };
    });

    const identity = await pending;
    expect(identity.enrollment.nodeId).toBe(NODE_ID);
    expect(seen?.publicKeyPem).toBe(identity.keys.publicKeyPem);
    expect(seen?.natsUserPublicKey).toBe(identity.keys.natsPublicKey);
    // A restart reads the saved identity: no token, no call.
    server.forceShutdown();
    server = undefined;
    expect((await enroll(stateDir, undefined)).enrollment.nodeId).toBe(NODE_ID);
  });

  it.each([
    ['TOKEN_UNKNOWN', 'enrollment refused: the token is not known'],
    ['TOKEN_EXPIRED', 'enrollment refused: the token has expired'],
    ['TOKEN_REVOKED', 'enrollment refused: the token was revoked'],
    ['TOKEN_EXHAUSTED', 'enrollment refused: the token has already been used as many times as it allows'],
    ['NODE_NAME_TAKEN', 'enrollment refused: the node name is already taken'],
  ])('says why when the control plane refuses with %s', async (reason, text) => {
    server = await startEnrollServer(port, dir, () => ({ refuse: reason }));
    const stateDir = join(dir, reason);
    mkdirSync(stateDir);
    const error = await enroll(stateDir, 'tok').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnrollmentRefusedError);
    expect((error as EnrollmentRefusedError).exitCode).toBe(2);
    expect((error as Error).message).toContain(text);
  });

  it.each([
    ['a self-signed one, without its CA file (the system CAs do not vouch for it)', false, {}],
    ['a plaintext one, when not told TRIAD_GRPC_INSECURE', true, {}],
  ])('never hands its token to a control plane it cannot verify: %s', async (how, plaintext, trust) => {
    let calls = 0;
    server = await startEnrollServer(port, dir, () => {
      calls++;
      return { refuse: 'TOKEN_UNKNOWN' };
    }, plaintext);
    const stateDir = join(dir, `untrusted-${how.length}-${String(plaintext)}-${Object.keys(trust).length}`);
    mkdirSync(stateDir);
    const abort = new AbortController();
    const pending = enroll(stateDir, 'tok', abort.signal, trust).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 3_000)); // the agent keeps retrying meanwhile
    abort.abort();
    // It was still retrying (a TLS failure is not an answer), and the server never saw a request.
    expect(await pending).toMatchObject({ message: 'stopped before enrollment completed' });
    expect(calls).toBe(0);
  });

  it('refuses to start unenrolled without a token, saying what to do', async () => {
    const stateDir = join(dir, 'no-token');
    mkdirSync(stateDir);
    await expect(enroll(stateDir, undefined)).rejects.toThrow(/not enrolled .* TRIAD_ENROLLMENT_TOKEN is not set/);
  });
});
