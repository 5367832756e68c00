/**
 * The one place that knows NATS names. Commands for a node travel on
 * `cmd.<tenantId>.<nodeId>` in the TRIAD_COMMANDS stream; each node reads them through its own
 * durable consumer, and its NATS user may touch nothing else.
 */
export const COMMAND_STREAM = 'TRIAD_COMMANDS';
export const COMMAND_SUBJECT_ROOT = 'cmd';

const TOKEN = /^[A-Za-z0-9_-]+$/;

function token(kind: string, value: string): string {
  if (!TOKEN.test(value)) {
    throw new Error(`${kind} "${value}" cannot be used in a NATS subject`);
  }
  return value;
}

export function commandSubject(tenantId: string, nodeId: string): string {
  return `${COMMAND_SUBJECT_ROOT}.${token('tenant id', tenantId)}.${token('node id', nodeId)}`;
}

export function commandConsumerName(nodeId: string): string {
  return `node_${token('node id', nodeId)}`;
}

export function agentInboxPrefix(nodeId: string): string {
  return `_INBOX_${token('node id', nodeId)}`;
}

/** Subjects an agent's NATS user may publish to and subscribe on: its own consumer only. */
export function agentNatsPermissions(nodeId: string): { publish: string[]; subscribe: string[] } {
  const consumer = commandConsumerName(nodeId);
  return {
    publish: [
      `$JS.API.CONSUMER.INFO.${COMMAND_STREAM}.${consumer}`,
      `$JS.API.CONSUMER.MSG.NEXT.${COMMAND_STREAM}.${consumer}`,
      `$JS.ACK.${COMMAND_STREAM}.${consumer}.>`,
    ],
    subscribe: [`${agentInboxPrefix(nodeId)}.>`],
  };
}
