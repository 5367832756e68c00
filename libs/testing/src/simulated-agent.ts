import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createUser } from '@nats-io/nkeys';
import {
  loadAgentProto,
  signAgentAuth,
  type AgentMessage,
  type AgentServiceClient,
  type ComponentHealth,
  type EnrollResponse__Output,
  type ServerMessage__Output,
} from '@triad/protocol';

/**
 * A stand-in for the agent that speaks the real gRPC protocol (real keys, real signed metadata),
 * for control-plane tests and benchmarks. It sends only what a test tells it to.
 */
export interface EnrolledIdentity {
  response: EnrollResponse__Output;
  nodeId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
  natsSeed: string;
}

export function agentServiceClient(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()): AgentServiceClient {
  const AgentService = loadAgentProto().triad.agent.v1.AgentService;
  return new AgentService(address, credentials);
}

export function enrollSimulatedAgent(client: AgentServiceClient, token: string, hostname: string, opts: { nodeName?: string } = {}): Promise<EnrolledIdentity> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const nkey = createUser();
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return new Promise((resolve, reject) =>
    client.Enroll(
      {
        token,
        publicKeyPem,
        natsUserPublicKey: nkey.getPublicKey(),
        nodeName: opts.nodeName ?? '',
        facts: { hostname, machineId: randomUUID().replace(/-/g, ''), addresses: ['127.0.0.1'], agentVersion: '0.0.0-sim', versions: {}, os: 'simulated' },
      },
      (err, response) => {
        if (err || !response) return reject(err ?? new Error('empty enroll response'));
        resolve({ response, nodeId: response.nodeId, privateKey, publicKeyPem, natsSeed: new TextDecoder().decode(nkey.getSeed()) });
      },
    ),
  );
}

/** One Connect stream; collects what the server sends and how the call ended. */
export class SimulatedAgentStream {
  readonly received: ServerMessage__Output[] = [];
  /** Resolves with the status the stream ended with (OK = 0). */
  readonly ended: Promise<grpc.StatusObject>;
  private readonly call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output>;
  private waiters: Array<() => void> = [];

  constructor(client: AgentServiceClient, metadata: grpc.Metadata) {
    this.call = client.Connect(metadata);
    this.call.on('data', (m: ServerMessage__Output) => {
      this.received.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => {
      this.call.on('status', resolve);
      this.call.on('error', () => undefined); // the status event carries the outcome
    });
  }

  static open(client: AgentServiceClient, identity: EnrolledIdentity, now = Date.now()): SimulatedAgentStream {
    return new SimulatedAgentStream(client, SimulatedAgentStream.metadata(identity.nodeId, identity.privateKey, now));
  }

  static metadata(nodeId: string, privateKey: KeyObject, now = Date.now()): grpc.Metadata {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(signAgentAuth(nodeId, privateKey, now))) md.set(k, v);
    return md;
  }

  /** Waits until the server has sent a message with `body` (e.g. 'settings', 'desired'). */
  async next(body: 'settings' | 'desired', timeoutMs = 5_000): Promise<ServerMessage__Output> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((m) => m.body === body);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${body} message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Writes a message; resolves once gRPC accepted it (respects flow control). */
  send(message: AgentMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.call.write(message, (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  hello(appliedRevision = 0, agentVersion = '0.0.0-sim'): Promise<void> {
    return this.send({ hello: { agentVersion, appliedRevision, appliedGeneration: 0, appliedArtifacts: [] } });
  }

  heartbeat(seq: number, opts: { appliedRevision?: number; components?: ComponentHealth[] } = {}): Promise<void> {
    return this.send({ heartbeat: { seq, appliedRevision: opts.appliedRevision ?? 0, components: opts.components ?? [], appliedArtifacts: [], sentAtMs: Date.now() } });
  }

  close(): void {
    this.call.cancel();
  }

  /** Half-closes and waits for the server to end the call. */
  async end(): Promise<grpc.StatusObject> {
    this.call.end();
    return this.ended;
  }
}
