import { NoRespondersError } from '@nats-io/transport-node';
import type { Logger } from '@triad/logging';
import { Command, CommandStatus, TenantScopedRepository, type Outbox } from '@triad/db';
import { commandSubject } from '@triad/protocol';
import type { DataSource } from 'typeorm';
import { commandStreamConfig, ensureCommandStream } from './command-stream';
import type { NatsLink } from './nats-link';
import type { OutboxHandler } from './outbox-relay';

/**
 * `command.publish` rows → JetStream, on `cmd.<tenantId>.<nodeId>` with `msgID` = command id:
 * if the worker dies after the publish but before the row is marked, the re-publish falls in the
 * stream's duplicate window and is dropped by JetStream (the agent also runs an id at most once).
 * A command that is no longer PENDING or has expired is not sent (the agent would refuse it).
 */
export function commandPublishHandler(dataSource: DataSource, nats: NatsLink, logger: Logger, publishTimeoutMs = 5_000): OutboxHandler {
  const commands = new TenantScopedRepository(dataSource.manager, Command);
  return {
    needsNats: true,
    async handle(row: Outbox) {
      const cmd = await commands.findById(row.tenantId, row.aggregateId);
      if (!cmd) return { note: 'not published: the command row does not exist' };
      if (cmd.status !== CommandStatus.PENDING) return { note: cmd.status === CommandStatus.EXPIRED ? 'not published: command EXPIRED' : undefined };
      if (cmd.expiresAt.getTime() <= Date.now()) return { note: 'not published: command expired before NATS took it' };

      const subject = commandSubject(cmd.tenantId, cmd.nodeId);
      const data = JSON.stringify(row.payload);
      const publish = () => nats.jetstream().publish(subject, data, { msgID: cmd.id, timeout: publishTimeoutMs });
      let ack;
      try {
        ack = await publish();
      } catch (err) {
        // No stream listens on the subject (NATS lost its store, or a fresh server): create it once, retry.
        if (!causedByNoResponders(err)) throw err;
        await ensureCommandStream(await nats.jetstreamManager(), commandStreamConfig());
        ack = await publish();
      }
      logger.debug({ commandId: cmd.id, nodeId: cmd.nodeId, seq: ack.seq, duplicate: ack.duplicate }, ack.duplicate ? 'command was already in the stream' : 'command published');
    },
  };
}

/** The client wraps "no responders" (nothing listens on the subject) as JetStreamNotEnabled; look through the causes. */
function causedByNoResponders(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof NoRespondersError) return true;
  return false;
}
