import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@triad/logging';
import { CommandRunner } from './command-runner';
import { generateAgentKeys, toAgentIdentity } from './identity';
import { CommandJournal } from './journal';
import { UpdateOutbox } from './update-outbox';

const logger = createLogger('command-runner-test', { level: 'silent' });

describe(CommandRunner.name, () => {
  let dir: string;

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'triad-runner-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a command interrupted by a crash as FAILED after restart, and never runs it again', async () => {
    const before = await CommandJournal.open(dir);
    await before.record({ id: 'cmd-1', generation: 4, expiresAt: new Date(Date.now() + 60_000).toISOString() });
    // (the agent dies here, while cmd-1 runs)

    const journal = await CommandJournal.open(dir);
    const outbox = await UpdateOutbox.open(dir);
    const keys = generateAgentKeys();
    const identity = toAgentIdentity(keys, {
      nodeId: 'n',
      tenantId: 't',
      clusterId: 'c',
      nodeName: 'controller-1',
      commandSigningPublicKeyPem: keys.publicKeyPem,
      nats: { servers: [], userJwt: '', stream: 's', consumer: 'c', subject: 's', inboxPrefix: 'i' },
      heartbeatIntervalMs: 1000,
      enrolledAt: new Date().toISOString(),
    });
    const runner = new CommandRunner({ identity, journal, outbox, logger, execute: async () => ({ message: 'ran' }) });
    await runner.reportInterrupted();

    const lines = readFileSync(join(dir, 'pending-updates.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ commandId: 'cmd-1', state: 'COMMAND_FAILED', generation: 4, message: expect.stringMatching(/agent stopped while this command was running/) })]);
    expect((await CommandJournal.open(dir)).unfinished()).toEqual([]);
    expect(journal.decide({ id: 'cmd-1', generation: 4 })).toMatchObject({ accept: false, reason: 'REPLAYED' });
  });

  it('keeps queued updates across a restart of the agent', async () => {
    const outbox = await UpdateOutbox.open(dir);
    await outbox.enqueue({ commandId: 'a', state: 'COMMAND_RECEIVED' });
    await outbox.enqueue({ commandId: 'a', state: 'COMMAND_RUNNING' });
    await outbox.shift();

    const reopened = await UpdateOutbox.open(dir);
    expect(reopened.size).toBe(1);
    expect(reopened.peek()).toEqual({ commandId: 'a', state: 'COMMAND_RUNNING' });
  });
});
