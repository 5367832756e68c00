import type { EntityManager } from 'typeorm';

/** LISTEN/NOTIFY channel that wakes the outbox relay as soon as an outbox row commits. */
export const OUTBOX_CHANNEL = 'triad_outbox';

/**
 * Call inside the transaction that inserted outbox rows: Postgres delivers the notification at
 * commit (never for a rolled-back transaction) and folds repeats within one transaction. Without
 * it the relay still finds the row on its next poll.
 */
export async function notifyOutbox(trx: EntityManager): Promise<void> {
  await trx.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
}
