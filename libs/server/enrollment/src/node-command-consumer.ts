import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { COMMAND_STREAM, commandConsumerName, commandSubject } from '@triad/protocol';

/** A command not acked in this time is redelivered (the agent acks once it has recorded it). */
export const NODE_CONSUMER_ACK_WAIT_MS = 30_000;
/**
 * Redeliveries are bounded: a command the agent keeps failing to ack stops being pushed, and the
 * reconciler (level-triggered, from Postgres) re-issues what is still wanted.
 */
export const NODE_CONSUMER_MAX_DELIVER = 10;

export function nodeCommandConsumerConfig(tenantId: string, nodeId: string): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: commandConsumerName(nodeId),
    // nats-server 2.9: a single filter_subject (filter_subjects is 2.10+).
    filter_subject: commandSubject(tenantId, nodeId),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(NODE_CONSUMER_ACK_WAIT_MS),
    max_deliver: NODE_CONSUMER_MAX_DELIVER,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 64,
  };
}

/**
 * Creates the node's durable pull consumer on TRIAD_COMMANDS, or brings an existing one back to
 * the expected configuration. Idempotent: enrollment calls it, and so can a repair.
 */
export async function ensureNodeCommandConsumer(jsm: JetStreamManager, tenantId: string, nodeId: string, stream: string = COMMAND_STREAM): Promise<void> {
  const config = nodeCommandConsumerConfig(tenantId, nodeId);
  try {
    const info = await jsm.consumers.info(stream, config.durable_name);
    const c = info.config;
    if (c.filter_subject !== config.filter_subject || c.ack_wait !== config.ack_wait || c.max_deliver !== config.max_deliver) {
      if (c.filter_subject !== config.filter_subject) {
        // The filter cannot be edited in place on 2.9; a consumer for another subject is wrong anyway.
        await jsm.consumers.delete(stream, config.durable_name);
        await jsm.consumers.add(stream, config);
      } else {
        await jsm.consumers.update(stream, config.durable_name, { ack_wait: config.ack_wait, max_deliver: config.max_deliver, max_ack_pending: config.max_ack_pending });
      }
    }
  } catch (e) {
    if (!(e instanceof JetStreamApiError && e.code === JetStreamApiCodes.ConsumerNotFound)) throw e;
    await jsm.consumers.add(stream, config);
  }
}
