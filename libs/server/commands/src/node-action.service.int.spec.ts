import { AuditEvent, Command, CommandStatus, Node, Outbox, createDataSource } from '@triad/db';
import { createLogger } from '@triad/logging';
import { verifyCommand, type CommandUpdate__Output } from '@triad/protocol';
import { createTestDatabase, labClusterSpec, labLoopbackAddresses, waitFor, type TestDatabase } from '@triad/testing';
import type { DataSource } from 'typeorm';
import { ClusterFixture, testSigner } from './commands.fixtures';
import { CommandsService } from './commands.service';
import { NodeActionException, NodeActionService } from './node-action.service';
import { Reconciler } from './reconciler';

/**
 * NodeActionService against a real Postgres: the command row and signed outbox entry it writes,
 * how it waits for the outcome the agent reports (fed through CommandsService.recordUpdate, the
 * path the agent stream uses), the audit trail, and refusals of bad input with nothing written.
 * Real agents running actions: apps/agent/src/node-actions.int.spec.ts.
 */
describe(NodeActionService.name, () => {
  jest.setTimeout(60_000);
  let db: TestDatabase;
  let ds: DataSource;
  let commands: CommandsService;
  let actions: NodeActionService;
  const signer = testSigner();
  const logger = createLogger('test', { level: 'silent' });
  const labSpec = () => labClusterSpec({ addresses: labLoopbackAddresses(3) });

  beforeAll(async () => {
    db = await createTestDatabase('node_actions');
    ds = await createDataSource(db.url).initialize();
    const reconciler = new Reconciler(ds, signer, { commandTtlMs: 60_000 }, logger);
    commands = new CommandsService(ds, reconciler, logger);
    actions = new NodeActionService(ds, reconciler, logger);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const update = (commandId: string, state: CommandUpdate__Output['state'], extra: Partial<CommandUpdate__Output> = {}): CommandUpdate__Output => ({
    commandId,
    state,
    message: '',
    revision: 0,
    generation: 0,
    artifacts: [],
    atMs: Date.now(),
    reason: '',
    resultJson: '',
    ...extra,
  });

  /** The agent's side: waits for the action's command row, then reports what `answer` says. */
  async function agentAnswers(f: ClusterFixture, node: Node, answer: (cmd: Command) => CommandUpdate__Output[]): Promise<Command> {
    const cmd = await waitFor(
      'run_action command',
      async () => (await ds.getRepository(Command).findOne({ where: { nodeId: node.id, verb: 'run_action', status: CommandStatus.PENDING } })) ?? undefined,
      10_000,
      50,
    );
    for (const u of answer(cmd)) await commands.recordUpdate(f.tenantId, node.id, u);
    return cmd;
  }

  it('issues a signed, fenced run_action command, waits for the outcome and returns the agent result', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const [node] = await f.nodes(1);
    const position = { uuid: '6f1c0ed2-0000-4000-8000-000000000001', seqno: 42, safeToBootstrap: false, running: false };
    const [result, cmd] = await Promise.all([
      actions.run(f.tenantId, node.id, 'galera.report_position', {}, { reason: 'test: full outage election' }),
      agentAnswers(f, node, (c) => [update(c.id, 'COMMAND_RECEIVED'), update(c.id, 'COMMAND_RUNNING'), update(c.id, 'COMMAND_SUCCEEDED', { message: 'position 42', resultJson: JSON.stringify(position) })]),
    ]);

    expect(result).toMatchObject({ commandId: cmd.id, status: 'SUCCEEDED', message: 'position 42', result: position });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const row = await ds.getRepository(Command).findOneByOrFail({ id: cmd.id });
    expect(row).toMatchObject({ verb: 'run_action', revision: null, status: CommandStatus.SUCCEEDED, result: position, params: { clusterId: f.clusterId, nodeName: node.name, action: 'galera.report_position', args: {} } });
    // Signed like apply_revision, with the node's next fencing generation.
    const outbox = await ds.getRepository(Outbox).findOneByOrFail({ aggregateId: cmd.id });
    const verified = verifyCommand(outbox.payload, signer.publicKey, { tenantId: f.tenantId, nodeId: node.id, now: new Date() });
    expect(verified).toMatchObject({ id: cmd.id, verb: 'run_action', generation: cmd.generation, params: { action: 'galera.report_position' } });
    expect((await ds.getRepository(Node).findOneByOrFail({ id: node.id })).commandGeneration).toBe(cmd.generation);
    // An action is not a revision: the node's applied revision is untouched.
    expect((await ds.getRepository(Node).findOneByOrFail({ id: node.id })).appliedRevision).toBe(node.appliedRevision);

    const audit = await ds.getRepository(AuditEvent).find({ where: { tenantId: f.tenantId, targetId: node.id }, order: { createdAt: 'ASC' } });
    expect(audit.map((a) => a.action)).toEqual(['node.action.requested', 'node.action.finished']);
    expect(audit[0].detail).toMatchObject({ commandId: cmd.id, action: 'galera.report_position', reason: 'test: full outage election' });
    expect(audit[1]).toMatchObject({ actorType: 'agent', actorId: node.id, detail: expect.objectContaining({ status: 'SUCCEEDED', result: position }) });
  });

  it('returns REFUSED with the agent reason when the action refuses, and the refusal is audited', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const [node] = await f.nodes(1);
    const [result] = await Promise.all([
      actions.run(f.tenantId, node.id, 'galera.bootstrap', {}),
      agentAnswers(f, node, (c) => [update(c.id, 'COMMAND_RECEIVED'), update(c.id, 'COMMAND_REFUSED', { reason: 'ACTION_REFUSED', message: 'mariadbd is running at 127.0.10.2:4567' })]),
    ]);
    expect(result).toMatchObject({ status: 'REFUSED', message: 'mariadbd is running at 127.0.10.2:4567' });
    const actionsAudited = (await ds.getRepository(AuditEvent).find({ where: { tenantId: f.tenantId } })).map((a) => a.action).sort();
    expect(actionsAudited).toEqual(['command.refused', 'node.action.finished', 'node.action.requested']);
  });

  it('returns EXPIRED when no outcome arrives in time, and audits it', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const [node] = await f.nodes(1);
    const [result, cmd] = await Promise.all([actions.run(f.tenantId, node.id, 'rabbitmq.restart', {}, { timeoutMs: 1_500 }), agentAnswers(f, node, (c) => [update(c.id, 'COMMAND_RECEIVED')])]);
    expect(result).toMatchObject({ commandId: cmd.id, status: 'EXPIRED', message: expect.stringContaining('the agent had received it') });
    expect(result.durationMs).toBeGreaterThanOrEqual(1_500);
    // The command's own deadline is the timeout: a late agent refuses it.
    expect(cmd.expiresAt.getTime() - cmd.issuedAt.getTime()).toBe(1_500);
    const finished = await ds.getRepository(AuditEvent).findOneByOrFail({ tenantId: f.tenantId, action: 'node.action.finished' });
    expect(finished).toMatchObject({ actorType: 'system', detail: expect.objectContaining({ status: 'EXPIRED', commandId: cmd.id }) });
  });

  it.each([
    ['a resource id that is not a Pacemaker id', 'pacemaker.cleanup', { resource: '--force' }, 'args.resource'],
    ['a missing argument', 'pacemaker.set_managed', { resource: 'galera' }, 'args.managed'],
    ['an argument the action does not take', 'galera.join', { donor: 'controller-2' }, 'args'],
    ['an unknown action', 'galera.drop', {}, 'action'],
  ])('refuses %s with a BAD_ACTION error naming the field, writing nothing', async (_what, action, args, field) => {
    const f = await ClusterFixture.create(ds, labSpec);
    const [node] = await f.nodes(1);
    const error = await actions.run(f.tenantId, node.id, action as 'galera.join', args).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeActionException);
    expect(error).toMatchObject({ code: 'BAD_ACTION', details: expect.objectContaining({ field }) });
    expect(await ds.getRepository(Command).countBy({ nodeId: node.id })).toBe(0);
    expect(await ds.getRepository(AuditEvent).countBy({ tenantId: f.tenantId })).toBe(0);
    expect((await ds.getRepository(Node).findOneByOrFail({ id: node.id })).commandGeneration).toBe(node.commandGeneration);
  });

  it("refuses another tenant's node as not found", async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const other = await ClusterFixture.create(ds, labSpec);
    const [node] = await other.nodes(1);
    await expect(actions.run(f.tenantId, node.id, 'galera.join', {})).rejects.toMatchObject({ code: 'NODE_NOT_FOUND' });
    expect(await ds.getRepository(Command).countBy({ nodeId: node.id })).toBe(0);
  });

  it('does not count an action as a revision attempt: the reconciler still issues the revision', async () => {
    const f = await ClusterFixture.create(ds, labSpec);
    const [node] = await f.nodes(1);
    await f.newRevision();
    await Promise.all([actions.run(f.tenantId, node.id, 'pacemaker.cleanup', { resource: 'galera' }), agentAnswers(f, node, (c) => [update(c.id, 'COMMAND_FAILED', { message: 'crm_resource failed' })])]);
    const outcome = await commands.reconcileNode(f.tenantId, node.id);
    expect(outcome.issued).toHaveLength(1);
    expect(outcome.decisions[0]).toMatchObject({ action: 'issue' });
  });
});
