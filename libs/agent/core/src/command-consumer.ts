import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { connect, jwtAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@triad/logging';
import { fullJitterBackoffMs, sleep } from './backoff';
import type { CommandRunner } from './command-runner';
import type { AgentIdentity } from './identity';

/**
 * Reads this node's commands from its durable JetStream pull consumer (created by the control
 * plane; the agent's NATS user may only read it, never create anything — and nats-server 2.9 has
 * no ordered consumers). One message at a time: ack once journaled, term when refused.
 * Reconnects forever.
 */
export class CommandConsumer {
  private readonly abort = new AbortController();
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly deps: { identity: AgentIdentity; runner: CommandRunner; logger: Logger },
  ) {}

  start(): void {
    this.loop = this.run().catch((e) => this.deps.logger.error({ err: e }, 'command consumer loop crashed'));
  }

  /** Waits for the command in hand (bounded by `graceMs`), then closes the connection. */
  async stop(graceMs = 5_000): Promise<void> {
    this.abort.abort();
    this.messages?.stop();
    await Promise.race([this.loop, sleep(graceMs)]);
    await this.nc?.close().catch(() => undefined);
  }

  /** Resolves undefined when stopped before a connection was made. */
  private async connectNats(): Promise<NatsConnection | undefined> {
    const { nats, nodeId } = this.deps.identity.enrollment;
    const seed = new TextEncoder().encode(this.deps.identity.keys.natsSeed);
    for (let attempt = 0; ; attempt++) {
      try {
        const nc = await connect({
          servers: nats.servers,
          name: `triad-agent-${nodeId}`,
          inboxPrefix: nats.inboxPrefix,
          authenticator: nats.userJwt ? jwtAuthenticator(nats.userJwt, seed) : undefined,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1_000,
        });
        if (this.abort.signal.aborted) {
          await nc.close();
          return undefined;
        }
        return nc;
      } catch (e) {
        if (this.abort.signal.aborted) return undefined;
        const delay = fullJitterBackoffMs(attempt);
        this.deps.logger.warn({ err: (e as Error).message, servers: nats.servers, retryInMs: delay }, 'NATS unreachable; retrying');
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async run(): Promise<void> {
    const { logger } = this.deps;
    const { nats } = this.deps.identity.enrollment;
    this.nc = await this.connectNats();
    if (!this.nc) return;
    logger.info({ servers: nats.servers, stream: nats.stream, consumer: nats.consumer }, 'connected to NATS');
    const js = jetstream(this.nc);
    for (let attempt = 0; !this.abort.signal.aborted; attempt++) {
      try {
        const consumer = await js.consumers.get(nats.stream, nats.consumer);
        const messages = await consumer.consume({ max_messages: 1 });
        this.messages = messages;
        if (this.abort.signal.aborted) messages.stop();
        attempt = 0;
        for await (const msg of messages) {
          await this.handle(msg);
          if (this.abort.signal.aborted) break;
        }
      } catch (e) {
        if (this.abort.signal.aborted) break;
        const delay = fullJitterBackoffMs(attempt);
        logger.warn({ err: (e as Error).message, retryInMs: delay }, 'cannot read the command consumer; retrying');
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    let wire: unknown;
    try {
      wire = msg.json();
    } catch {
      wire = undefined; // not JSON: the runner refuses it as unsigned
    }
    // A long apply must not look abandoned to JetStream (ack_wait) before it is acked.
    const keepAlive = setInterval(() => msg.working(), 10_000);
    try {
      let acked = false;
      const disposition = await this.deps.runner.handle(wire, async () => {
        msg.ack();
        acked = true;
      });
      if (disposition === 'refused') msg.term();
      else if (!acked) msg.ack();
    } catch (e) {
      // The journal or outbox could not be written: leave the message for redelivery.
      this.deps.logger.error({ err: e }, 'could not process a command message; it will be redelivered');
      msg.nak(5_000);
    } finally {
      clearInterval(keepAlive);
    }
  }
}
