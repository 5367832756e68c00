import * as grpc from '@grpc/grpc-js';
import {
  signAgentAuth,
  type AgentMessage,
  type AgentServiceClient,
  type Heartbeat,
  type Hello,
  type ServerMessage__Output,
} from '@triad/protocol';
import type { Logger } from '@triad/logging';
import { fullJitterBackoffMs, jitteredIntervalMs, sleep } from './backoff';
import type { AgentIdentity } from './identity';
import type { UpdateOutbox } from './update-outbox';

export interface ControlStreamOptions {
  client: AgentServiceClient;
  identity: AgentIdentity;
  outbox: UpdateOutbox;
  logger: Logger;
  hello: () => Promise<Hello>;
  /** Everything in a heartbeat but its sequence number. */
  heartbeat: () => Promise<Omit<Heartbeat, 'seq'>>;
}

/**
 * The one Connect stream to the control plane: Hello, then heartbeats at the interval the server
 * sets (±10 % jitter), and the command update outbox flushed in order. Reconnects forever with
 * full-jitter exponential backoff (250 ms base, 15 s cap); the backoff resets once the server has
 * accepted a stream (sent Settings).
 */
export class ControlStream {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output> | undefined;
  private flushing = false;
  private seq = 0;
  private desiredRevision: number | undefined;
  /** Resolves when the current stream closes (a write callback may never fire on a dead stream). */
  private sessionEnded: Promise<false> = Promise.resolve(false);
  connected = false;

  constructor(private readonly opts: ControlStreamOptions) {
    opts.outbox.onEnqueue(() => void this.flush());
  }

  start(): void {
    this.loop = this.run().catch((e) => this.opts.logger.error({ err: e }, 'control stream loop crashed'));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.call?.end();
    this.call?.cancel();
    await this.loop;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.abort.signal.aborted) {
      const accepted = await this.session();
      if (this.abort.signal.aborted) break;
      attempt = accepted ? 0 : attempt + 1;
      const delay = fullJitterBackoffMs(attempt);
      this.opts.logger.info({ retryInMs: delay, attempt }, 'control stream closed; reconnecting');
      await sleep(delay, this.abort.signal);
    }
  }

  /** One stream, from connect to close. Resolves whether the server accepted it. */
  private session(): Promise<boolean> {
    const { identity, logger } = this.opts;
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(signAgentAuth(identity.enrollment.nodeId, identity.privateKey))) metadata.set(k, v);
    const call = this.opts.client.Connect(metadata);
    this.call = call;
    let accepted = false;
    let timer: NodeJS.Timeout | undefined;
    let intervalMs = identity.enrollment.heartbeatIntervalMs || 5_000;

    const scheduleHeartbeat = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        void this.sendHeartbeat(call).finally(() => {
          if (this.call === call && this.connected) scheduleHeartbeat();
        });
      }, jitteredIntervalMs(intervalMs));
    };

    let ended: (v: false) => void = () => undefined;
    this.sessionEnded = new Promise<false>((r) => (ended = r));
    return new Promise<boolean>((resolve) => {
      let finished = false;
      const finish = (why: string, err?: grpc.ServiceError): void => {
        if (finished) return;
        finished = true;
        ended(false);
        clearTimeout(timer);
        this.connected = false;
        if (this.call === call) this.call = undefined;
        if (err && err.code !== grpc.status.CANCELLED) logger.warn({ code: err.code, err: err.details || err.message }, `control stream ${why}`);
        resolve(accepted);
      };
      call.on('data', (msg: ServerMessage__Output) => {
        if (msg.settings) {
          if (msg.settings.heartbeatIntervalMs > 0) intervalMs = msg.settings.heartbeatIntervalMs;
          if (!accepted) logger.info({ heartbeatIntervalMs: intervalMs }, 'control stream established');
          accepted = true;
          scheduleHeartbeat();
        }
        if (msg.desired && msg.desired.revision !== this.desiredRevision) {
          // Informational: the command that brings this node there arrives over NATS.
          this.desiredRevision = msg.desired.revision;
          logger.info({ desiredRevision: msg.desired.revision }, 'control plane wants this node at a revision');
        }
      });
      call.on('error', (err: grpc.ServiceError) => finish('failed', err));
      call.on('end', () => finish('ended by the server'));
      call.on('close', () => finish('closed'));

      void this.opts
        .hello()
        .then((hello) => {
          if (finished) return;
          call.write({ hello });
          this.connected = true;
          scheduleHeartbeat();
          return this.flush();
        })
        .catch((e) => {
          logger.error({ err: e }, 'could not send Hello');
          call.cancel();
        });
    });
  }

  private async sendHeartbeat(call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output>): Promise<void> {
    try {
      const body = await this.opts.heartbeat();
      if (this.call !== call || !this.connected) return;
      call.write({ heartbeat: { ...body, seq: ++this.seq } });
    } catch (e) {
      this.opts.logger.warn({ err: e }, 'heartbeat not sent');
    }
  }

  /** Sends queued command updates in order while the stream is up. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let update = this.opts.outbox.peek(); update && this.connected && this.call; update = this.opts.outbox.peek()) {
        const call = this.call;
        const written = await Promise.race([
          new Promise<boolean>((resolve) => call.write({ commandUpdate: update }, (err?: Error | null) => resolve(!err))),
          this.sessionEnded,
        ]);
        if (!written || this.call !== call) break;
        await this.opts.outbox.shift();
      }
    } finally {
      this.flushing = false;
    }
  }
}
