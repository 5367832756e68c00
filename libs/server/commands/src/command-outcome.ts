import { Command, CommandStatus, TenantScopedRepository } from '@triad/db';
import type { DataSource } from 'typeorm';

/** Every status a command does not leave. */
export const TERMINAL_COMMAND_STATUSES: readonly CommandStatus[] = [CommandStatus.SUCCEEDED, CommandStatus.FAILED, CommandStatus.REFUSED, CommandStatus.EXPIRED];

/**
 * Polls a command's row until its status is one of `outcomes` or `deadline` (epoch ms) passes.
 * Returns the row (as last read) and whether it reached an outcome. The one wait loop for the
 * callers that issue a command and need its result (node actions, remediation's re-apply).
 */
export async function awaitCommandOutcome(
  dataSource: DataSource,
  tenantId: string,
  commandId: string,
  opts: { deadline: number; pollMs: number; outcomes?: readonly CommandStatus[] },
): Promise<{ row: Command | null; done: boolean }> {
  const outcomes = opts.outcomes ?? TERMINAL_COMMAND_STATUSES;
  const commands = new TenantScopedRepository(dataSource.manager, Command);
  for (;;) {
    const row = await commands.findById(tenantId, commandId);
    if (row && outcomes.includes(row.status)) return { row, done: true };
    if (Date.now() >= opts.deadline) return { row, done: false };
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
}
