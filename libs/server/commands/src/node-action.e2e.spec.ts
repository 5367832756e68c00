import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { AuditEvent, Command, CommandStatus, Node, NodeStatus, createDataSource, tenantTransaction } from '@triad/db';
import { createLogger } from '@triad/logging';
import { startControlPlane, startLocalAgent, waitFor, type ControlPlane, type GraphQLClient, type TriadProcess } from '@triad/testing';
import type { DataSource } from 'typeorm';
import { CommandSigner } from './command-signer';
import { NodeActionService } from './node-action.service';
import { Reconciler, RUN_ACTION } from './reconciler';

jest.setTimeout(240_000);

/**
 * run_action end to end: api and worker as processes, an operator-mode nats-server, a real agent
 * process whose Pacemaker component works on a file-backed CIB (Pacemaker's own CIB_file: the
 * real crm_resource / crm_attribute, without a running cluster), and NodeActionService in this
 * process on the control plane's database and signing key. Heavy: run under flock /tmp/triad-heavy.lock.
 */
describe(`${NodeActionService.name} with a real agent`, () => {
  const logger = createLogger('node-action-e2e', { level: 'silent' });
  let cp: ControlPlane;
  let owner: GraphQLClient;
  let ds: DataSource;
  let reconciler: Reconciler;
  let actions: NodeActionService;
  let agent: TriadProcess | undefined;
  let tenantId: string;
  let node: Node;
  const dir = mkdtempSync(join(tmpdir(), 'triad-action-e2e-'));
  const cibFile = join(dir, 'cib.xml');
  const cib = (bin: string, args: string[]) => execFileSync(bin, args, { env: { ...process.env, CIB_file: cibFile }, encoding: 'utf8' });
  const isManaged = () => cib('/usr/sbin/crm_resource', ['--resource', 'dummy1', '--meta', '--get-parameter', 'is-managed', '--quiet']).trim();
  const maintenance = () => cib('/usr/sbin/crm_attribute', ['--type', 'crm_config', '--name', 'maintenance-mode', '--query', '--quiet']).trim();

  beforeAll(async () => {
    writeFileSync(cibFile, execFileSync('/usr/sbin/cibadmin', ['--empty'], { encoding: 'utf8' }));
    cib('/usr/sbin/cibadmin', ['--create', '-o', 'resources', '-X', '<primitive id="dummy1" class="ocf" provider="heartbeat" type="Dummy"/>']);

    cp = await startControlPlane({ heartbeatIntervalMs: 500 });
    owner = cp.client(await cp.bootstrapTenant('acme'));
    const cloud = await owner.ok<{ createCloud: { id: string } }>(`mutation { createCloud(name: "eu-west") { id } }`);
    const cluster = await owner.ok<{ createCluster: { id: string } }>(`mutation($c: ID!) { createCluster(cloudId: $c, name: "prod") { id } }`, { c: cloud.createCloud.id });
    const token = await owner.ok<{ createEnrollmentToken: { secret: string } }>(
      `mutation($c: ID!) { createEnrollmentToken(clusterId: $c, name: "e2e", maxUses: 1, ttlSeconds: 600) { secret } }`,
      { c: cluster.createCluster.id },
    );
    agent = startLocalAgent(cp, {
      name: 'controller-1',
      token: token.createEnrollmentToken.secret,
      haproxyBindAddress: '127.0.1.1',
      env: { TRIAD_COMPONENTS: 'haproxy,pacemaker', TRIAD_PACEMAKER_CIB_FILE: cibFile },
    });

    ds = await createDataSource(cp.db.url).initialize();
    node = await waitFor('controller-1 ONLINE', async () => (await ds.getRepository(Node).findOne({ where: { name: 'controller-1', status: NodeStatus.ONLINE } })) ?? undefined, 90_000, 250);
    tenantId = node.tenantId;
    reconciler = new Reconciler(ds, CommandSigner.fromPem(cp.signingKeyPem), { commandTtlMs: 60_000 }, logger);
    actions = new NodeActionService(ds, reconciler, logger);
  }, 240_000);

  afterAll(async () => {
    await agent?.stop('SIGTERM', 15_000);
    await ds?.destroy();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('unmanages and manages a resource again through crm_resource on the node, returning the result', async () => {
    expect(isManaged()).toBe('');
    const off = await actions.run(tenantId, node.id, 'pacemaker.set_managed', { resource: 'dummy1', managed: false }, { reason: 'e2e' });
    console.info(`pacemaker.set_managed(false) round trip: ${off.durationMs} ms`);
    expect(off).toMatchObject({ status: 'SUCCEEDED', result: { resource: 'dummy1', managed: false } });
    expect(isManaged()).toBe('false');

    const on = await actions.run(tenantId, node.id, 'pacemaker.set_managed', { resource: 'dummy1', managed: true });
    expect(on.status).toBe('SUCCEEDED');
    expect(isManaged()).toBe('true');
    const row = await ds.getRepository(Command).findOneByOrFail({ id: on.commandId });
    expect(row).toMatchObject({ verb: RUN_ACTION, status: CommandStatus.SUCCEEDED, result: { resource: 'dummy1', managed: true } });

    // Operators see the action and its result with the node's commands.
    const page = await owner.ok<{ commands: { edges: { node: { id: string; verb: string; status: string; result: unknown } }[] } }>(
      `query($n: ID!) { commands(nodeId: $n, first: 5) { edges { node { id verb status result } } } }`,
      { n: node.id },
    );
    expect(page.commands.edges.map((e) => e.node).find((c) => c.id === on.commandId)).toEqual({ id: on.commandId, verb: 'run_action', status: 'SUCCEEDED', result: { resource: 'dummy1', managed: true } });
  });

  it('sets cluster maintenance-mode on and off', async () => {
    const on = await actions.run(tenantId, node.id, 'pacemaker.set_maintenance', { on: true });
    console.info(`pacemaker.set_maintenance(true) round trip: ${on.durationMs} ms`);
    expect(on).toMatchObject({ status: 'SUCCEEDED', result: { maintenanceMode: true } });
    expect(maintenance()).toBe('true');
    expect((await actions.run(tenantId, node.id, 'pacemaker.set_maintenance', { on: false })).status).toBe('SUCCEEDED');
    expect(maintenance()).toBe('false');
  });

  it('returns REFUSED with the reason for an action the node cannot carry out, audited, nothing changed', async () => {
    const r = await actions.run(tenantId, node.id, 'galera.bootstrap', { force: true });
    expect(r).toMatchObject({ status: 'REFUSED', message: 'this agent does not manage galera on this node' });
    const row = await ds.getRepository(Command).findOneByOrFail({ id: r.commandId });
    expect(row).toMatchObject({ status: CommandStatus.REFUSED, reason: 'ACTION_REFUSED' });
    const audit = await ds.getRepository(AuditEvent).find({ where: { tenantId, targetId: r.commandId } });
    expect(audit.map((a) => a.action)).toEqual(['command.refused']);
    expect(audit[0].detail).toMatchObject({ reason: 'ACTION_REFUSED' });
  });

  /** A command the service would never build (it validates first): issued raw through the same path, signed by the real key. */
  async function issueRaw(params: Record<string, unknown>): Promise<Command> {
    const issued = await tenantTransaction(ds, tenantId, (trx) =>
      reconciler.issueCommand(trx, node, { verb: RUN_ACTION, params, revision: null, expiresAt: new Date(Date.now() + 60_000) }, new Date()),
    );
    return waitFor('agent outcome', async () => {
      const c = await ds.getRepository(Command).findOneByOrFail({ id: issued.commandId });
      return c.status === CommandStatus.REFUSED || c.status === CommandStatus.SUCCEEDED || c.status === CommandStatus.FAILED ? c : undefined;
    }, 30_000, 100);
  }

  it.each([
    ['another node', 'WRONG_NODE', { nodeName: 'controller-2', action: 'pacemaker.set_maintenance', args: { on: true } }],
    ['an unknown action', 'UNKNOWN_ACTION', { nodeName: 'controller-1', action: 'pacemaker.delete_everything', args: {} }],
    ['a resource id that is not a Pacemaker id', 'BAD_PARAMS', { nodeName: 'controller-1', action: 'pacemaker.set_managed', args: { resource: '--force', managed: false } }],
  ])('the agent refuses a signed command for %s with reason %s, audited as command.refused, CIB unchanged', async (_what, reason, params) => {
    const before = cib('/usr/sbin/cibadmin', ['--query']).replace(/ (cib-last-written|num_updates|epoch)="[^"]*"/g, '');
    const cmd = await issueRaw({ clusterId: node.clusterId, ...params });
    expect(cmd).toMatchObject({ status: CommandStatus.REFUSED, reason });
    const audit = await waitFor('refusal audited', async () => (await ds.getRepository(AuditEvent).findOne({ where: { tenantId, action: 'command.refused', targetId: cmd.id } })) ?? undefined, 10_000, 100);
    expect(audit.detail).toMatchObject({ reason });
    expect(cib('/usr/sbin/cibadmin', ['--query']).replace(/ (cib-last-written|num_updates|epoch)="[^"]*"/g, '')).toBe(before);
    expect(maintenance()).toBe('false');
  });
});
