import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from './atomic-file';

/**
 * The command journal: which command ids this node has accepted, with their fencing generation.
 * A command is recorded here (fsynced) BEFORE it runs, so it runs at most once even across a
 * crash, and a generation lower than the highest accepted one is refused (a delayed command from
 * an older rollout must not undo a newer one).
 */
const entrySchema = z.object({
  id: z.string(),
  generation: z.number().int(),
  expiresAt: z.string(),
  receivedAt: z.string(),
  outcome: z.enum(['SUCCEEDED', 'FAILED']).optional(),
});
const journalSchema = z.object({
  v: z.literal(1),
  highestGeneration: z.number().int().nonnegative(),
  commands: z.array(entrySchema),
});

export type JournalEntry = z.infer<typeof entrySchema>;
export type JournalData = z.infer<typeof journalSchema>;
export type JournalOutcome = NonNullable<JournalEntry['outcome']>;

export const EMPTY_JOURNAL: JournalData = { v: 1, highestGeneration: 0, commands: [] };

/**
 * Entries are kept until their command expired plus this margin: after that a replay is refused
 * as EXPIRED by the signature check anyway, so the journal stays small.
 */
export const JOURNAL_RETENTION_AFTER_EXPIRY_MS = 24 * 3600_000;

export type JournalDecision =
  | { accept: true }
  | { accept: false; reason: 'REPLAYED' | 'STALE_GENERATION'; message: string };

/** Pure: may a verified command with this id and generation run? */
export function decideCommand(journal: JournalData, command: { id: string; generation: number }): JournalDecision {
  const seen = journal.commands.find((c) => c.id === command.id);
  if (seen) {
    return {
      accept: false,
      reason: 'REPLAYED',
      message: `command ${command.id} was already received at ${seen.receivedAt}${seen.outcome ? ` and ${seen.outcome.toLowerCase()}` : ''}; it is not run again`,
    };
  }
  // The control plane gives every command its own generation (monotonic per node), so a new id
  // with a generation already used is as stale as a lower one.
  if (command.generation <= journal.highestGeneration) {
    return {
      accept: false,
      reason: 'STALE_GENERATION',
      message: `generation ${command.generation} is not above generation ${journal.highestGeneration} this node has already accepted`,
    };
  }
  return { accept: true };
}

/** Pure: the journal with the command recorded (generation fence raised). */
export function recordCommand(
  journal: JournalData,
  command: { id: string; generation: number; expiresAt: string },
  now: Date,
): JournalData {
  const live = journal.commands.filter((c) => !c.outcome || Date.parse(c.expiresAt) + JOURNAL_RETENTION_AFTER_EXPIRY_MS > now.getTime());
  return {
    v: 1,
    highestGeneration: Math.max(journal.highestGeneration, command.generation),
    commands: [...live, { id: command.id, generation: command.generation, expiresAt: command.expiresAt, receivedAt: now.toISOString() }],
  };
}

export function completeCommand(journal: JournalData, id: string, outcome: JournalOutcome): JournalData {
  return { ...journal, commands: journal.commands.map((c) => (c.id === id ? { ...c, outcome } : c)) };
}

/** The journal on disk (`<stateDir>/journal.json`), rewritten atomically on every change. */
export class CommandJournal {
  private constructor(
    private readonly path: string,
    private data: JournalData,
  ) {}

  static async open(stateDir: string): Promise<CommandJournal> {
    const path = join(stateDir, 'journal.json');
    const text = await readFileIfExists(path);
    return new CommandJournal(path, text === undefined ? EMPTY_JOURNAL : journalSchema.parse(JSON.parse(text)));
  }

  decide(command: { id: string; generation: number }): JournalDecision {
    return decideCommand(this.data, command);
  }

  async record(command: { id: string; generation: number; expiresAt: string }, now = new Date()): Promise<void> {
    await this.save(recordCommand(this.data, command, now));
  }

  async complete(id: string, outcome: JournalOutcome): Promise<void> {
    await this.save(completeCommand(this.data, id, outcome));
  }

  /** Commands that were recorded but never finished: the agent stopped while they ran. */
  unfinished(): JournalEntry[] {
    return this.data.commands.filter((c) => !c.outcome);
  }

  private async save(next: JournalData): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify(next));
    this.data = next;
  }
}
