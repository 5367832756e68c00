import { readFileSync } from 'node:fs';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@triad/logging';

export interface NatsLinkOptions {
  servers: string | string[];
  /** NATS_CREDS_FILE: a user JWT + seed (.creds); omitted on a no-auth dev NATS. */
  credsFile?: string;
  /** Connection name shown by the NATS server (monitoring). */
  name: string;
}

/**
 * The control plane's one NATS connection wrapper. It reconnects forever
 * (`maxReconnectAttempts: -1`), also when NATS is down at start (`waitOnFirstConnect`), and
 * exposes whether it is connected now, so callers can leave work in Postgres instead of failing
 * it while NATS is away. `onConnected` callbacks run after the first connect and every reconnect.
 */
export class NatsLink {
  private nc?: NatsConnection;
  private up = false;
  private closing = false;
  private readonly connectedCallbacks: Array<() => Promise<void> | void> = [];
  private connecting?: Promise<NatsConnection>;
  private cancelRetry?: () => void;

  constructor(
    private readonly options: NatsLinkOptions,
    private readonly logger: Logger,
  ) {}

  /**
   * Starts connecting; resolves once connected, which may be much later (NATS down at start).
   * Never rejects: a refused first connection (e.g. bad credentials) is logged and retried.
   */
  start(): Promise<NatsConnection> {
    this.connecting ??= this.openWithRetry();
    return this.connecting;
  }

  get connected(): boolean {
    return this.up && !!this.nc && !this.nc.isClosed();
  }

  /** The live connection; throws when not connected (callers check `connected` first). */
  connection(): NatsConnection {
    if (!this.nc || !this.connected) throw new Error('NATS is not connected');
    return this.nc;
  }

  jetstream(): JetStreamClient {
    return jetstream(this.connection());
  }

  jetstreamManager(): Promise<JetStreamManager> {
    return jetstreamManager(this.connection());
  }

  onConnected(callback: () => Promise<void> | void): void {
    this.connectedCallbacks.push(callback);
    if (this.connected) void this.runCallback(callback);
  }

  /** Drains (flushes pending publishes) and closes; gives up after `timeoutMs`. Returns false on timeout. */
  async close(timeoutMs = 5_000): Promise<boolean> {
    this.closing = true;
    this.cancelRetry?.();
    const nc = this.nc;
    if (!nc || nc.isClosed()) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const drained = (this.up ? nc.drain() : nc.close()).then(
      () => true,
      () => nc.close().then(() => true),
    );
    const ok = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (!ok) {
      this.logger.warn({ timeoutMs }, 'NATS did not drain in time; closed without draining');
      await nc.close().catch(() => undefined);
    }
    return ok;
  }

  private async openWithRetry(): Promise<NatsConnection> {
    for (;;) {
      try {
        return await this.open();
      } catch (err) {
        if (this.closing) throw err;
        this.logger.error({ err }, 'cannot connect to NATS; retrying in 5 s');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          this.cancelRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (this.closing) throw new Error('NATS link closed while connecting');
      }
    }
  }

  private async open(): Promise<NatsConnection> {
    const nc = await connect({
      servers: this.options.servers,
      name: this.options.name,
      authenticator: this.options.credsFile ? credsAuthenticator(readFileSync(this.options.credsFile)) : undefined,
      maxReconnectAttempts: -1,
      waitOnFirstConnect: true,
      reconnectTimeWait: 1_000,
      pingInterval: 10_000,
    });
    if (this.closing) {
      await nc.close();
      throw new Error('NATS link closed while connecting');
    }
    this.nc = nc;
    this.up = true;
    this.logger.info({ server: nc.getServer() }, 'connected to NATS');
    void this.watch(nc);
    void nc.closed().then((err) => {
      this.up = false;
      if (!this.closing) this.logger.error({ err }, 'NATS connection closed unexpectedly');
    });
    for (const cb of this.connectedCallbacks) await this.runCallback(cb);
    return nc;
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.up = false;
        this.logger.warn({ server: s.server }, 'NATS disconnected; commands wait in the outbox');
      } else if (s.type === 'reconnect') {
        this.up = true;
        this.logger.info({ server: s.server }, 'NATS reconnected');
        for (const cb of this.connectedCallbacks) await this.runCallback(cb);
      }
    }
  }

  private async runCallback(cb: () => Promise<void> | void): Promise<void> {
    try {
      await cb();
    } catch (err) {
      this.logger.error({ err }, 'NATS on-connect hook failed');
    }
  }
}
