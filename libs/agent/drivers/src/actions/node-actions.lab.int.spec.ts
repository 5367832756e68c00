import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyArtifact } from '@triad/agent-core';
import { createLogger } from '@triad/logging';
import type { RunActionParams } from '@triad/protocol';
import { waitFor } from '@triad/testing';
// The lab tool drives real controllers (network namespaces); its library is what its docs offer tests.
/* eslint-disable @nx/enforce-module-boundaries */
import { cibWithoutClones, renderLabClusterFiles, startClusterStack } from '../../../../../tools/lab/src/cluster-stack';
import { Lab, LAB_CLUSTER_STACK_SCRIPT } from '../../../../../tools/lab/src/lab';
import { labClusterSpec } from '../../../../../tools/lab/src/lab-cluster-spec';
/* eslint-enable @nx/enforce-module-boundaries */
import { ClusterStack } from '../cluster-stack/cluster-stack';
import { CLUSTER_TOOLS, nsenterRunner, type ToolRunner } from '../pacemaker/cluster-tools';
import { PacemakerDriver } from '../pacemaker/pacemaker.driver';
import { NodeActions } from './node-actions';

const logger = createLogger('node-actions-lab-test', { level: 'silent' });
const NODE = 'controller-1';
const clusterId = '00000000-0000-4000-8000-000000000002';

/** The lab's CIB without the service clones, with one Dummy resource. */
function withDummy(cib: string): string {
  return cibWithoutClones(cib, ['haproxy-clone', 'galera-clone', 'rabbitmq-clone']).replace(
    '</resources>',
    '  <primitive id="dummy" class="ocf" provider="pacemaker" type="Dummy">\n        <operations>\n          <op id="dummy-monitor-interval-10s" name="monitor" interval="10s" timeout="20s"/>\n        </operations>\n      </primitive>\n    </resources>',
  );
}

/**
 * The Pacemaker actions of run_action on a live 3-node lab cluster (real corosync and pacemakerd
 * in network namespaces): cleanup of a failed resource and unmanage/manage. Heavy: run under
 * `flock /tmp/triad-heavy.lock`.
 */
describe(`${NodeActions.name} (Pacemaker, live lab cluster)`, () => {
  const name = `na${process.pid}`.slice(0, 12);
  let lab: Lab;
  let dir: string;
  let driver: PacemakerDriver;
  let actions: NodeActions;

  const inside = (node: string): ToolRunner => nsenterRunner((argv) => lab.enterCommand(node, argv));
  const run = (action: RunActionParams['action'], args: Record<string, unknown>) => actions.run({ clusterId, nodeName: NODE, action, args } as RunActionParams, logger);
  const dummy = async () => (await driver.status()).resources.find((r) => r.id === 'dummy');
  const dummyFailures = async () => (await driver.status()).failedActions.filter((f) => f.resource === 'dummy');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'triad-actions-lab-'));
    lab = await Lab.up({ name, controllers: 3, services: [] });
    const { elapsedMs } = await startClusterStack(lab, renderLabClusterFiles(lab, labClusterSpec(lab), 'none'), { timeoutMs: 120_000 });
    console.log(`lab cluster formed in ${elapsedMs} ms`);
    driver = new PacemakerDriver({ nodeName: NODE, workDir: join(dir, 'pacemaker'), logger, run: inside(NODE), checkTimeoutMs: 60_000 });
    await driver.start();
    await applyArtifact(driver, withDummy(renderLabClusterFiles(lab, labClusterSpec(lab), 'haproxy-vips')[NODE]?.['cib.xml'] ?? ''), logger);
    // How the lab's agents start the stack (TRIAD_CLUSTER_STACK_START/STOP): the lab's script inside the controller.
    const clusterStack = new ClusterStack({ startCommands: [[LAB_CLUSTER_STACK_SCRIPT, 'start']], stopCommands: [[LAB_CLUSTER_STACK_SCRIPT, 'stop']], logger, run: inside(NODE) });
    actions = new NodeActions({ pacemaker: driver, clusterStack });
  }, 300_000);

  afterAll(async () => {
    await Lab.down(name);
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('cleans up a failed resource: its failed action and fail count are gone and it runs', async () => {
    const where = (await dummy())?.nodes[0] ?? NODE;
    const fail = await inside(NODE)(CLUSTER_TOOLS.crmResource, ['--fail', '--resource', 'dummy', '--node', where], { timeoutMs: 20_000 });
    expect(fail.code).toBe(0);
    await waitFor('dummy failed action recorded', async () => (await dummyFailures()).length > 0, 30_000, 500);

    const t0 = Date.now();
    const r = await run('pacemaker.cleanup', { resource: 'dummy' });
    expect(r.result).toMatchObject({ resource: 'dummy', failedActionsBefore: expect.any(Number) });
    expect(Number(r.result?.failedActionsBefore)).toBeGreaterThan(0);
    await waitFor('no dummy failed action, dummy active', async () => (await dummyFailures()).length === 0 && (await dummy())?.active === true, 30_000, 500);
    console.log(`pacemaker.cleanup: failed action gone and resource active ${Date.now() - t0} ms after the action started`);
  }, 120_000);

  it('unmanages a resource and gives it back to Pacemaker', async () => {
    expect((await run('pacemaker.set_managed', { resource: 'dummy', managed: false })).result).toEqual({ resource: 'dummy', managed: false });
    await waitFor('dummy unmanaged in crm_mon', async () => (await dummy())?.managed === false, 20_000, 250);
    // Running it again changes nothing and still succeeds (safe to retry).
    await run('pacemaker.set_managed', { resource: 'dummy', managed: false });
    expect(await dummy()).toMatchObject({ managed: false, active: true });

    await run('pacemaker.set_managed', { resource: 'dummy', managed: true });
    await waitFor('dummy managed again', async () => (await dummy())?.managed === true, 20_000, 250);
  }, 60_000);

  it('fails with the tool message for a resource the cluster does not have', async () => {
    await expect(run('pacemaker.cleanup', { resource: 'no-such-resource' })).rejects.toThrow(/crm_resource --cleanup --resource no-such-resource failed \(exit \d+\).*not found/);
  }, 30_000);

  it('starts the cluster stack after kill -9 of corosync and pacemakerd: the node is online again in the membership', async () => {
    expect((await run('cluster_stack.start', {})).result).toEqual({ corosync: true, pacemaker: true, started: false });
    await lab.kill(NODE, 'pacemakerd');
    await lab.kill(NODE, 'corosync');
    const other = new PacemakerDriver({ nodeName: 'controller-2', workDir: join(dir, 'pacemaker-2'), logger, run: inside('controller-2') });
    await waitFor(`${NODE} offline as seen from controller-2`, async () => (await other.status()).nodes.find((n) => n.name === NODE)?.online === false, 60_000, 500);

    const t0 = Date.now();
    const r = await run('cluster_stack.start', {});
    expect(r.result).toEqual({ corosync: true, pacemaker: true, started: true });
    await waitFor(`${NODE} online again`, async () => (await other.status()).nodes.find((n) => n.name === NODE)?.online === true, 120_000, 500);
    console.log(`cluster_stack.start after kill -9: ${NODE} online again ${Date.now() - t0} ms after the action started (action itself ${r.message})`);
  }, 240_000);
});
