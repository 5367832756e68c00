import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { COMMAND_STREAM, COMMAND_SUBJECT_ROOT } from '@triad/protocol';

/** How long JetStream keeps an undelivered command. Commands expire sooner (COMMAND_TTL_MS); this is the storage bound. */
export const COMMAND_STREAM_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Re-publishing the same command id within this window is dropped by JetStream (msgID dedup). */
export const COMMAND_STREAM_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/**
 * The one definition of the TRIAD_COMMANDS stream. The worker ensures it at start and after every
 * NATS reconnect; enrollment ensures it before creating a node's consumer.
 */
export function commandStreamConfig(): Partial<StreamConfig> & { name: string } {
  return {
    name: COMMAND_STREAM,
    subjects: [`${COMMAND_SUBJECT_ROOT}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(COMMAND_STREAM_MAX_AGE_MS),
    duplicate_window: nanos(COMMAND_STREAM_DUPLICATE_WINDOW_MS),
    num_replicas: 1,
  };
}

/** Creates the stream, or updates it when it exists with another configuration. Idempotent. */
export async function ensureCommandStream(jsm: JetStreamManager, config = commandStreamConfig()): Promise<void> {
  try {
    const info = await jsm.streams.info(config.name);
    const c = info.config;
    const same =
      c.subjects?.join(',') === config.subjects?.join(',') &&
      c.max_age === config.max_age &&
      c.duplicate_window === config.duplicate_window &&
      c.retention === config.retention;
    if (!same) await jsm.streams.update(config.name, config);
  } catch (e) {
    if (!isStreamNotFound(e)) throw e;
    await jsm.streams.add(config);
  }
}

function isStreamNotFound(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound;
}
