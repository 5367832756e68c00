import { completeCommand, decideCommand, EMPTY_JOURNAL, JOURNAL_RETENTION_AFTER_EXPIRY_MS, recordCommand } from './journal';

const now = new Date('2026-11-23T12:00:00Z');
const later = new Date(now.getTime() + 3600_000).toISOString();

describe('command journal decisions', () => {
  it('accepts a command never seen', () => {
    expect(decideCommand(EMPTY_JOURNAL, { id: 'a', generation: 1 })).toEqual({ accept: true });
  });

  it('refuses a command id already received as REPLAYED, even with a higher generation', () => {
    const j = recordCommand(EMPTY_JOURNAL, { id: 'a', generation: 3, expiresAt: later }, now);
    const d = decideCommand(j, { id: 'a', generation: 9 });
    expect(d).toMatchObject({ accept: false, reason: 'REPLAYED' });
  });

  it('says how a replayed command ended', () => {
    const j = completeCommand(recordCommand(EMPTY_JOURNAL, { id: 'a', generation: 3, expiresAt: later }, now), 'a', 'SUCCEEDED');
    const d = decideCommand(j, { id: 'a', generation: 3 });
    expect(d.accept === false && d.message).toMatch(/already received at 2026-11-23T12:00:00.000Z and succeeded/);
  });

  it('refuses a generation lower than the highest accepted as STALE_GENERATION', () => {
    const j = recordCommand(EMPTY_JOURNAL, { id: 'a', generation: 5, expiresAt: later }, now);
    expect(decideCommand(j, { id: 'b', generation: 4 })).toMatchObject({ accept: false, reason: 'STALE_GENERATION' });
  });

  it('refuses a new command id that reuses an accepted generation, and accepts a higher one', () => {
    const j = recordCommand(EMPTY_JOURNAL, { id: 'a', generation: 5, expiresAt: later }, now);
    expect(decideCommand(j, { id: 'b', generation: 5 })).toMatchObject({ accept: false, reason: 'STALE_GENERATION' });
    expect(decideCommand(j, { id: 'c', generation: 6 })).toEqual({ accept: true });
  });

  it('keeps the generation fence when a lower generation is recorded after a higher one', () => {
    let j = recordCommand(EMPTY_JOURNAL, { id: 'a', generation: 7, expiresAt: later }, now);
    j = recordCommand(j, { id: 'b', generation: 3, expiresAt: later }, now);
    expect(j.highestGeneration).toBe(7);
  });

  it('forgets finished commands long after they expired, but keeps the generation fence', () => {
    const expired = new Date(now.getTime() - 1000).toISOString();
    let j = completeCommand(recordCommand(EMPTY_JOURNAL, { id: 'old', generation: 2, expiresAt: expired }, now), 'old', 'FAILED');
    const muchLater = new Date(now.getTime() + JOURNAL_RETENTION_AFTER_EXPIRY_MS + 1000);
    j = recordCommand(j, { id: 'new', generation: 3, expiresAt: later }, muchLater);
    expect(j.commands.map((c) => c.id)).toEqual(['new']);
    expect(decideCommand(j, { id: 'x', generation: 2 })).toMatchObject({ reason: 'STALE_GENERATION' });
  });

  it('never forgets a command that has not finished', () => {
    const expired = new Date(now.getTime() - 1000).toISOString();
    let j = recordCommand(EMPTY_JOURNAL, { id: 'running', generation: 2, expiresAt: expired }, now);
    j = recordCommand(j, { id: 'new', generation: 3, expiresAt: later }, new Date(now.getTime() + JOURNAL_RETENTION_AFTER_EXPIRY_MS * 2));
    expect(j.commands.map((c) => c.id)).toEqual(['running', 'new']);
  });
});
