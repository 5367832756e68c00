/**
 * LISTEN/NOTIFY channel that wakes the outbox relay. A trigger on `outbox`
 * (migrations/1795474557934-outbox-notify.ts) notifies it whenever rows are inserted, so writers
 * need do nothing; the relay's poll is only a safety net.
 */
export const OUTBOX_CHANNEL = 'triad_outbox';
