import { CommandStatus } from '@triad/db';
import type { CommandState__Output } from '@triad/protocol';

/** A command in one of these may still reach, or be running on, its node (unless expired). */
export const LIVE_COMMAND_STATUSES: readonly CommandStatus[] = [CommandStatus.PENDING, CommandStatus.DELIVERED, CommandStatus.RUNNING];

/** What an agent's `CommandUpdate.state` means for the row; UNSPECIFIED means nothing. */
export function statusForAgentState(state: CommandState__Output): CommandStatus | undefined {
  switch (state) {
    case 'COMMAND_RECEIVED':
      return CommandStatus.DELIVERED;
    case 'COMMAND_RUNNING':
      return CommandStatus.RUNNING;
    case 'COMMAND_SUCCEEDED':
      return CommandStatus.SUCCEEDED;
    case 'COMMAND_FAILED':
      return CommandStatus.FAILED;
    case 'COMMAND_REFUSED':
      return CommandStatus.REFUSED;
    case 'COMMAND_STATE_UNSPECIFIED':
      return undefined;
  }
}

/**
 * Progress rank: a row only moves to a higher rank. EXPIRED is the control plane's guess that
 * the command will never run (its deadline passed); an outcome reported by the agent itself
 * (SUCCEEDED, FAILED, REFUSED) is what really happened and replaces that guess, so it ranks
 * above. RECEIVED/RUNNING arriving after EXPIRED change nothing.
 */
const RANK: Record<CommandStatus, number> = {
  [CommandStatus.PENDING]: 0,
  [CommandStatus.DELIVERED]: 1,
  [CommandStatus.RUNNING]: 2,
  [CommandStatus.EXPIRED]: 3,
  [CommandStatus.SUCCEEDED]: 4,
  [CommandStatus.FAILED]: 4,
  [CommandStatus.REFUSED]: 4,
};
const OUTCOME_RANK = 4;

/** Whether a row in `from` may move to `to`. Outcomes reported by the agent are final. */
export function canTransition(from: CommandStatus, to: CommandStatus): boolean {
  return RANK[from] < OUTCOME_RANK && RANK[to] > RANK[from];
}

/** Statuses a row may be in for an update to `to` to apply (used in the guarded UPDATE). */
export function statusesBefore(to: CommandStatus): CommandStatus[] {
  return Object.values(CommandStatus).filter((from) => canTransition(from, to));
}

/**
 * Whether a finished command counts against the node's retry budget for its revision: the agent
 * got it and it did not work. An expired command the agent never received (node offline, NATS
 * down) and the agent's refusal of an already-expired one are not the configuration's fault.
 */
export function countsAsFailedAttempt(c: { status: CommandStatus; reason: string | null; deliveredAt: Date | null }): boolean {
  switch (c.status) {
    case CommandStatus.FAILED:
      return true;
    case CommandStatus.REFUSED:
      return c.reason !== 'EXPIRED';
    case CommandStatus.EXPIRED:
      return c.deliveredAt !== null;
    default:
      return false;
  }
}
