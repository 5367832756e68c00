import { Client } from 'pg';
import type { Logger } from '@triad/logging';
import { Outbox } from '@triad/db';
import type { DataSource, EntityManager } from 'typeorm';
import { OUTBOX_CHANNEL } from './outbox-notify';
import { affectedRows } from './sql';

/** What to do with one kind of outbox row. Throwing leaves the row for a retry with backoff. */
export interface OutboxHandler {
  /** Rows of this kind wait untouched (no attempt counted) while NATS is disconnected. */
  needsNats: boolean;
  /** Returns a note when the row was deliberately not acted on (kept in `last_error`). */
  handle(row: Outbox): Promise<{ note?: string } | void>;
}

export interface OutboxRelayOptions {
  /** Postgres URL for the LISTEN connection (the pool's connections come and go). */
  databaseUrl: string;
  /** Safety-net poll; NOTIFY normally wakes the relay within milliseconds. */
  pollIntervalMs?: number;
  batchSize?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * Publishes outbox rows: claims unpublished rows with `FOR UPDATE SKIP LOCKED` (so N worker
 * replicas share the work without taking the same row), runs the handler for the row's kind,
 * then sets `published_at` in the same transaction. A crash before that commit leaves the row
 * unpublished and it is handled again (handlers are idempotent: JetStream msgID dedup,
 * level-triggered reconcile). A failure increments `attempts`, records `last_error` and delays
 * the row (`available_at`) with exponential backoff; rows are never dropped. Kinds without a
 * handler here are left for a relay that knows them.
 */
export class OutboxRelay {
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private running = false;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  private pending = false;
  private listener?: Client;

  constructor(
    private readonly dataSource: DataSource,
    private readonly handlers: Readonly<Record<string, OutboxHandler>>,
    private readonly natsConnected: () => boolean,
    private readonly options: OutboxRelayOptions,
    private readonly logger: Logger,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.batchSize = options.batchSize ?? 50;
    this.retryBaseMs = options.retryBaseMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 60_000;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.listen();
    this.loop = this.run();
  }

  /** Finishes the batch in progress, then stops. Resolves false if that took longer than `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<boolean> {
    this.running = false;
    this.wake();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      (this.loop ?? Promise.resolve()).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    return finished;
  }

  /** Asks for a pass now (e.g. NATS just came back). */
  wake(): void {
    this.pending = true;
    this.wakeUp?.();
  }

  /** Claims and handles one batch; returns how many rows it claimed. */
  async runOnce(): Promise<number> {
    const kinds = Object.entries(this.handlers)
      .filter(([, h]) => !h.needsNats || this.natsConnected())
      .map(([kind]) => kind);
    if (kinds.length === 0) return 0;
    return this.dataSource.transaction(async (trx) => {
      const rows = await trx
        .getRepository(Outbox)
        .createQueryBuilder('o')
        .where('o.publishedAt IS NULL')
        .andWhere('o.availableAt <= now()')
        .andWhere('o.kind IN (:...kinds)', { kinds })
        .orderBy('o.id', 'ASC')
        .limit(this.batchSize)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      for (const row of rows) await this.handleRow(trx, row);
      return rows.length;
    });
  }

  /**
   * Deletes rows published more than `olderThanMs` ago (at most `limit` per call): they only
   * matter for troubleshooting. Returns how many were deleted.
   */
  async prunePublished(olderThanMs: number, limit = 10_000): Promise<number> {
    return affectedRows(
      this.dataSource,
      `DELETE FROM outbox WHERE id IN (
         SELECT id FROM outbox WHERE published_at < now() - $1 * interval '1 millisecond' ORDER BY id LIMIT $2)`,
      [olderThanMs, limit],
    );
  }

  private async handleRow(trx: EntityManager, row: Outbox): Promise<void> {
    const log = this.logger.child({ outboxId: row.id, kind: row.kind, tenantId: row.tenantId, aggregateId: row.aggregateId });
    const handler = this.handlers[row.kind] as OutboxHandler;
    // NATS dropped during the batch: leave the row as it is (no attempt counted) for after the reconnect.
    if (handler.needsNats && !this.natsConnected()) return;
    try {
      const result = await handler.handle(row);
      await trx.update(Outbox, { id: row.id }, { publishedAt: () => 'now()', lastError: result?.note ?? null });
      if (result?.note) log.info({ note: result.note }, 'outbox row settled without publishing');
    } catch (err) {
      const attempts = row.attempts + 1;
      const delayMs = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempts - 1));
      const message = err instanceof Error ? err.message : String(err);
      await trx.update(Outbox, { id: row.id }, { attempts, lastError: message.slice(0, 2_000), availableAt: () => `now() + interval '${delayMs} milliseconds'` });
      log.warn({ err, attempts, retryInMs: delayMs }, 'outbox row failed; will retry');
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.pending = false;
      let claimed = 0;
      try {
        claimed = await this.runOnce();
      } catch (err) {
        this.logger.error({ err }, 'outbox relay pass failed');
      }
      if (!this.running) break;
      if (claimed < this.batchSize && !this.pending) await this.sleep(this.pollIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  /** A dedicated connection LISTENs for commits of outbox rows; it reconnects by itself. */
  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.options.databaseUrl, application_name: 'triad-outbox-listener' });
    const retry = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => undefined);
      if (this.running) setTimeout(() => void this.listen(), 1_000);
    };
    client.on('notification', () => this.wake());
    client.on('error', (err) => {
      this.logger.warn({ err }, 'outbox LISTEN connection lost; polling until it is back');
      retry();
    });
    client.on('end', retry);
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.wake(); // catch up with anything committed while not listening
    } catch (err) {
      this.logger.warn({ err }, 'cannot LISTEN for outbox rows; polling');
      retry();
    }
  }
}
