import { AuditEvent, Command, CommandStatus, Node, createDataSource } from '@triad/db';
import { createLogger } from '@triad/logging';
import type { CommandState__Output, CommandUpdate__Output } from '@triad/protocol';
import { createTestDatabase, type TestDatabase, labClusterSpec, labLoopbackAddresses } from '@triad/testing';
import type { DataSource } from 'typeorm';
import { ClusterFixture, testSigner } from './commands.fixtures';
import { CommandsService } from './commands.service';
import { Reconciler } from './reconciler';


const labSpec = () => labClusterSpec({ addresses: labLoopbackAddresses(3) });
describe(CommandsService.name, () => {
  let db: TestDatabase;
  let ds: DataSource;
  let service: CommandsService;
  const logger = createLogger('test', { level: 'silent' });

  beforeAll(async () => {
    db = await createTestDatabase('command_status');
    ds = await createDataSource(db.url).initialize();
    service = new CommandsService(ds, new Reconciler(ds, testSigner(), { commandTtlMs: 60_000 }, logger), logger);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  function update(commandId: string, state: CommandState__Output, extra: Partial<CommandUpdate__Output> = {}): CommandUpdate__Output {
    return { commandId, state, message: '', revision: 0, generation: 0, artifacts: [], atMs: Date.now(), reason: '', resultJson: '', ...extra };
  }

  /** A cluster with one enrolled node that has a PENDING command for revision 1. */
  async function pendingCommand() {
    const f = await ClusterFixture.create(ds, labSpec);
    const [node] = await f.nodes(1);
    await f.newRevision();
    const { issued } = await service.reconcileNode(f.tenantId, node.id);
    return { f, node, cmd: await ds.getRepository(Command).findOneByOrFail({ id: issued[0].commandId }) };
  }
  const reload = (id: string) => ds.getRepository(Command).findOneByOrFail({ id });

  it('follows the agent through RECEIVED, RUNNING and SUCCEEDED, then records the applied revision and an audit event', async () => {
    const { f, node, cmd } = await pendingCommand();
    expect(await service.recordUpdate(f.tenantId, node.id, update(cmd.id, 'COMMAND_RECEIVED'))).toEqual({ outcome: 'applied', status: CommandStatus.DELIVERED });
    expect((await reload(cmd.id)).deliveredAt).toBeInstanceOf(Date);
    await service.recordUpdate(f.tenantId, node.id, update(cmd.id, 'COMMAND_RUNNING'));
    expect((await reload(cmd.id)).startedAt).toBeInstanceOf(Date);
    const artifacts = [{ name: 'haproxy.cfg', sha256: 'a'.repeat(64) }];
    await service.recordUpdate(f.tenantId, node.id, update(cmd.id, 'COMMAND_SUCCEEDED', { revision: 1, generation: cmd.generation, artifacts }));

    expect(await reload(cmd.id)).toMatchObject({ status: CommandStatus.SUCCEEDED, finishedAt: expect.any(Date) });
    expect(await ds.getRepository(Node).findOneByOrFail({ id: node.id })).toMatchObject({ appliedRevision: 1, appliedArtifacts: { 'haproxy.cfg': 'a'.repeat(64) } });
    const audit = await ds.getRepository(AuditEvent).findOneByOrFail({ tenantId: f.tenantId, action: 'node.revision.applied' });
    expect(audit).toMatchObject({ actorType: 'agent', actorId: node.id, targetId: node.id, detail: expect.objectContaining({ commandId: cmd.id, revision: 1 }) });
  });

  it('ignores a late RECEIVED after SUCCEEDED', async () => {
    const { f, node, cmd } = await pendingCommand();
    await service.recordUpdate(f.tenantId, node.id, update(cmd.id, 'COMMAND_SUCCEEDED', { revision: 1 }));
    expect(await service.recordUpdate(f.tenantId, node.id, update(cmd.id, 'COMMAND_RECEIVED'))).toEqual({ outcome: 'stale', status: CommandStatus.SUCCEEDED });
    expect((await reload(cmd.id)).status).toBe(CommandStatus.SUCCEEDED);
  });

  it('records why a command failed or was refused', async () => {
    const failed = await pendingCommand();
    await service.recordUpdate(failed.f.tenantId, failed.node.id, update(failed.cmd.id, 'COMMAND_FAILED', { message: 'haproxy -c: parse error line 12' }));
    expect(await reload(failed.cmd.id)).toMatchObject({ status: CommandStatus.FAILED, message: 'haproxy -c: parse error line 12' });
    expect((await ds.getRepository(Node).findOneByOrFail({ id: failed.node.id })).appliedRevision).toBe(0);

    const refused = await pendingCommand();
    await service.recordUpdate(refused.f.tenantId, refused.node.id, update(refused.cmd.id, 'COMMAND_REFUSED', { reason: 'STALE_GENERATION', message: 'generation 1 < 7' }));
    expect(await reload(refused.cmd.id)).toMatchObject({ status: CommandStatus.REFUSED, reason: 'STALE_GENERATION', message: 'generation 1 < 7' });
  });

  it("ignores an update about another node's or another tenant's command", async () => {
    const victim = await pendingCommand();
    const attacker = await pendingCommand();
    expect(await service.recordUpdate(attacker.f.tenantId, attacker.node.id, update(victim.cmd.id, 'COMMAND_SUCCEEDED'))).toEqual({ outcome: 'unknown-command' });
    expect(await service.recordUpdate(victim.f.tenantId, attacker.node.id, update(victim.cmd.id, 'COMMAND_FAILED'))).toEqual({ outcome: 'unknown-command' });
    expect(await service.recordUpdate(victim.f.tenantId, victim.node.id, update('not-a-uuid', 'COMMAND_FAILED'))).toEqual({ outcome: 'unknown-command' });
    expect((await reload(victim.cmd.id)).status).toBe(CommandStatus.PENDING);
  });

  it('expires commands past their deadline without an outcome, and a new one is issued for the node', async () => {
    const { f, node, cmd } = await pendingCommand();
    const done = await pendingCommand();
    await service.recordUpdate(done.f.tenantId, done.node.id, update(done.cmd.id, 'COMMAND_SUCCEEDED', { revision: 1 }));
    await ds.getRepository(Command).update({ id: cmd.id }, { expiresAt: new Date(Date.now() - 1) });
    await ds.getRepository(Command).update({ id: done.cmd.id }, { expiresAt: new Date(Date.now() - 1) });

    expect(await service.expireOverdue()).toBeGreaterThanOrEqual(1);
    expect(await reload(cmd.id)).toMatchObject({ status: CommandStatus.EXPIRED, reason: 'EXPIRED', finishedAt: expect.any(Date) });
    expect((await reload(done.cmd.id)).status).toBe(CommandStatus.SUCCEEDED);

    const next = await service.reconcileNode(f.tenantId, node.id);
    expect(next.issued).toHaveLength(1);
    expect(next.issued[0].generation).toBe(cmd.generation + 1);
  });

  it('takes the agent outcome over EXPIRED: a command that ran late still counts as applied', async () => {
    const { f, node, cmd } = await pendingCommand();
    await ds.getRepository(Command).update({ id: cmd.id }, { expiresAt: new Date(Date.now() - 1) });
    await service.expireOverdue();
    await service.recordUpdate(f.tenantId, node.id, update(cmd.id, 'COMMAND_RUNNING'));
    expect((await reload(cmd.id)).status).toBe(CommandStatus.EXPIRED);
    await service.recordUpdate(f.tenantId, node.id, update(cmd.id, 'COMMAND_SUCCEEDED', { revision: 1 }));
    expect((await reload(cmd.id)).status).toBe(CommandStatus.SUCCEEDED);
    expect((await ds.getRepository(Node).findOneByOrFail({ id: node.id })).appliedRevision).toBe(1);
  });
});
