import { CommandRefusedError, verifyCommand, type ArtifactDigest, type CommandState, type RunActionParams, type VerifiedCommand } from '@triad/protocol';
import type { Logger } from '@triad/logging';
import type { AgentIdentity } from './identity';
import type { CommandJournal } from './journal';
import type { UpdateOutbox } from './update-outbox';

/** What running a command produced, for its SUCCEEDED update. */
export interface CommandResult {
  message: string;
  revision?: number;
  artifacts?: ArtifactDigest[];
  /** run_action: what the action found or did (reported as `result_json`). */
  result?: Record<string, unknown>;
}

/**
 * Thrown by an action that looked and decided not to act (it would fight Pacemaker, a Primary
 * component exists, the node is not safe to bootstrap…): reported as REFUSED with reason
 * ACTION_REFUSED and nothing changed on the node, unlike a FAILED attempt.
 */
export class ActionRefusedError extends Error {
  constructor(
    message: string,
    readonly result?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ActionRefusedError';
  }
}

export type CommandExecutor = (command: VerifiedCommand, logger: Logger) => Promise<CommandResult>;

/**
 * Carries out `run_action` on this node (implemented in @triad/agent-drivers by `NodeActions`).
 * Throws ActionRefusedError when it decides not to act, any other error when the action failed.
 */
export interface NodeActionExecutor {
  run(params: RunActionParams, logger: Logger): Promise<CommandResult>;
}

export type CommandDisposition = 'accepted' | 'refused';

/**
 * Takes one command off the wire: verifies it (signature, node, expiry, verb and parameters),
 * checks the journal (replay, stale generation), records it BEFORE running it, and reports every
 * state change through the outbox. Commands run one at a time.
 */
export class CommandRunner {
  constructor(
    private readonly deps: {
      identity: AgentIdentity;
      journal: CommandJournal;
      outbox: UpdateOutbox;
      execute: CommandExecutor;
      logger: Logger;
      now?: () => Date;
    },
  ) {}

  /**
   * `onAccepted` runs once the command is durably journaled (the NATS message can be acked: a
   * redelivery would be refused as a replay anyway). Resolves with what happened to the message.
   */
  async handle(wire: unknown, onAccepted: () => Promise<void> = async () => undefined): Promise<CommandDisposition> {
    const { identity, journal, logger } = this.deps;
    const now = this.deps.now?.() ?? new Date();
    let command: VerifiedCommand;
    try {
      command = verifyCommand(wire, identity.commandPublicKey, { tenantId: identity.enrollment.tenantId, nodeId: identity.enrollment.nodeId, now });
    } catch (e) {
      if (!(e instanceof CommandRefusedError)) throw e;
      // Without a valid signature the id inside is only a claim: report it as text, never as the
      // update's command id, so a forged message cannot settle a real command.
      const claimed = e.commandId ?? claimedId(wire);
      const trusted = e.reason !== 'BAD_SIGNATURE' ? e.commandId : undefined;
      logger.warn({ commandId: claimed, reason: e.reason, err: e.message }, 'command refused');
      await this.report(trusted ?? '', 'COMMAND_REFUSED', {
        reason: e.reason,
        message: trusted || !claimed ? e.message : `${e.message} (claimed command id ${claimed})`,
      });
      return 'refused';
    }

    const log = logger.child({ commandId: command.id, verb: command.verb, generation: command.generation });
    if (command.verb === 'run_action' && command.params.nodeName !== identity.enrollment.nodeName) {
      const message = `the action is for node "${command.params.nodeName}" but this node is "${identity.enrollment.nodeName}"`;
      log.warn({ reason: 'WRONG_NODE', err: message }, 'command refused');
      await this.report(command.id, 'COMMAND_REFUSED', { reason: 'WRONG_NODE', message, generation: command.generation });
      return 'refused';
    }
    const decision = journal.decide(command);
    if (!decision.accept) {
      log.warn({ reason: decision.reason, err: decision.message }, 'command refused');
      await this.report(command.id, 'COMMAND_REFUSED', { reason: decision.reason, message: decision.message, generation: command.generation });
      return 'refused';
    }

    await journal.record(command, now);
    await this.report(command.id, 'COMMAND_RECEIVED', { generation: command.generation });
    await onAccepted();
    await this.report(command.id, 'COMMAND_RUNNING', { generation: command.generation });
    log.info('running command');
    try {
      const result = await this.deps.execute(command, log);
      await journal.complete(command.id, 'SUCCEEDED');
      await this.report(command.id, 'COMMAND_SUCCEEDED', { generation: command.generation, message: result.message, revision: result.revision, artifacts: result.artifacts, result: result.result });
      log.info({ result: result.message }, 'command succeeded');
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof ActionRefusedError) {
        // Journaled as finished (it never runs again), reported as a refusal: nothing was changed.
        await journal.complete(command.id, 'FAILED');
        await this.report(command.id, 'COMMAND_REFUSED', { generation: command.generation, reason: 'ACTION_REFUSED', message, result: e.result });
        log.warn({ err: message }, 'action refused');
        return 'accepted';
      }
      await journal.complete(command.id, 'FAILED');
      await this.report(command.id, 'COMMAND_FAILED', { generation: command.generation, message, revision: revisionOf(command) });
      log.error({ err: message }, 'command failed');
    }
    return 'accepted';
  }

  /** After a crash: commands recorded but never finished are reported FAILED (they ran at most once). */
  async reportInterrupted(): Promise<void> {
    for (const entry of this.deps.journal.unfinished()) {
      await this.report(entry.id, 'COMMAND_FAILED', {
        generation: entry.generation,
        message: 'the agent stopped while this command was running; it is not run again (the control plane may issue a new command)',
      });
      await this.deps.journal.complete(entry.id, 'FAILED');
    }
  }

  private report(
    commandId: string,
    state: CommandState,
    extra: { message?: string; reason?: string; generation?: number; revision?: number; artifacts?: ArtifactDigest[]; result?: Record<string, unknown> },
  ): Promise<void> {
    return this.deps.outbox.enqueue({
      commandId,
      state,
      message: extra.message ?? '',
      reason: extra.reason ?? '',
      generation: extra.generation ?? 0,
      revision: extra.revision ?? 0,
      artifacts: extra.artifacts ?? [],
      atMs: Date.now(),
      resultJson: extra.result ? JSON.stringify(extra.result) : '',
    });
  }
}

function revisionOf(command: VerifiedCommand): number {
  return command.verb === 'apply_revision' ? command.params.revision : 0;
}

/** The id an unverifiable message claims, for the operator's eyes only. */
function claimedId(wire: unknown): string | undefined {
  try {
    const payload = (wire as { payload?: unknown }).payload;
    if (typeof payload !== 'string') return undefined;
    const id = (JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' ? id.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}
