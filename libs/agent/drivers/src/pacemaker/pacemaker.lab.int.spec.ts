import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyArtifact } from '@triad/agent-core';
import { createLogger } from '@triad/logging';
import { pacemakerHealthDetailSchema, corosyncHealthDetailSchema } from '@triad/protocol';
// The lab tool drives real controllers (network namespaces); its library is what its docs offer tests.
/* eslint-disable @nx/enforce-module-boundaries */
import { cibWithoutClones, renderLabClusterFiles, startClusterStack } from '../../../../../tools/lab/src/cluster-stack';
import { Lab } from '../../../../../tools/lab/src/lab';
import { labClusterSpec } from '../../../../../tools/lab/src/lab-cluster-spec';
/* eslint-enable @nx/enforce-module-boundaries */
import { CorosyncDriver } from '../corosync/corosync.driver';
import { CLUSTER_TOOLS, nsenterRunner, type ToolRunner } from './cluster-tools';
import { PacemakerDriver } from './pacemaker.driver';

const logger = createLogger('pacemaker-lab-test', { level: 'silent' });
const NODE = 'controller-1';

/** A CIB with the lab's VIPs (no haproxy/galera/rabbitmq clones) and a Dummy resource. */
function vipsAndDummy(cib: string): string {
  return cibWithoutClones(cib, ['haproxy-clone', 'galera-clone', 'rabbitmq-clone']).replace(
    '</resources>',
    '  <primitive id="dummy" class="ocf" provider="pacemaker" type="Dummy">\n        <operations>\n          <op id="dummy-monitor-interval-10s" name="monitor" interval="10s" timeout="20s"/>\n        </operations>\n      </primitive>\n    </resources>',
  );
}

describe('Pacemaker and Corosync drivers on a live 3-node lab cluster', () => {
  // Unique per run: another run of the suite may use a lab at the same time.
  const name = `pd${process.pid}`.slice(0, 12);
  let lab: Lab;
  let dir: string;
  let cib: string;
  let corosyncConf: string;

  /** Runs a tool inside a controller; host paths of its per-node directories become its own paths. */
  const inside =
    (node: string): ToolRunner =>
    (bin, args, opts) => {
      const etc = lab.hostPath(node, '/etc/corosync');
      return nsenterRunner((argv) => lab.enterCommand(node, argv))(bin, args.map((a) => a.replace(etc, '/etc/corosync')), opts);
    };
  const pacemaker = () => new PacemakerDriver({ nodeName: NODE, workDir: join(dir, 'pacemaker'), logger, run: inside(NODE), checkTimeoutMs: 60_000 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'triad-pcmk-lab-'));
    lab = await Lab.up({ name, controllers: 3, services: [] });
    const files = renderLabClusterFiles(lab, labClusterSpec(lab), 'haproxy-vips');
    cib = vipsAndDummy(files[NODE]?.['cib.xml'] ?? '');
    corosyncConf = files[NODE]?.['corosync.conf'] ?? '';
    // The cluster forms managing nothing: the driver brings the resources.
    const { elapsedMs } = await startClusterStack(lab, renderLabClusterFiles(lab, labClusterSpec(lab), 'none'), { timeoutMs: 120_000 });
    console.log(`lab cluster formed in ${elapsedMs} ms`);
  }, 240_000);

  afterAll(async () => {
    await Lab.down(name);
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('pushes a CIB with VIPs and a dummy resource, and crm_mon shows them started', async () => {
    const driver = pacemaker();
    await driver.start();
    const t0 = Date.now();
    await applyArtifact(driver, cib, logger);
    console.log(`CIB pushed and every resource started in ${Date.now() - t0} ms`);
    const status = await driver.status();
    for (const id of ['vip-keystone', 'vip-glance-api', 'vip-nova-api', 'vip-galera', 'dummy']) {
      expect(status.resources.find((r) => r.id === id)).toMatchObject({ role: 'Started', active: true, failed: false });
    }
  }, 120_000);

  it('reports 3 nodes online, quorum and a DC', async () => {
    const t0 = Date.now();
    const health = await pacemaker().probe();
    console.log(`pacemaker probe in ${Date.now() - t0} ms: ${health.summary}`);
    expect(health.state).toBe('COMPONENT_OK');
    const detail = pacemakerHealthDetailSchema.parse(JSON.parse(health.detailJson ?? ''));
    expect(detail.nodes.filter((n) => n.online).map((n) => n.name)).toEqual(['controller-1', 'controller-2', 'controller-3']);
    expect(detail.quorate).toBe(true);
    expect(detail.dc).toMatch(/^controller-[123]$/);
  }, 60_000);

  it('refuses to push over a configuration another node changed in between', async () => {
    const driver = pacemaker();
    await driver.stage(cib.replace('<primitive id="dummy"', '<primitive id="dummy2" class="ocf" provider="pacemaker" type="Dummy"/>\n      <primitive id="dummy"'));
    await driver.validate();
    const other = await inside('controller-2')(CLUSTER_TOOLS.cibadmin, ['--modify', '--scope', 'crm_config', '--xml-text', '<cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-cluster-recheck-interval" name="cluster-recheck-interval" value="7min"/></cluster_property_set>'], { timeoutMs: 20_000 });
    expect(other.code).toBe(0);
    await expect(driver.swap()).rejects.toThrow(/refusing to push the CIB: its configuration changed since it was read .*nothing was overwritten/);
    const live = (await inside(NODE)(CLUSTER_TOOLS.cibadmin, ['--query', '--scope', 'configuration'], { timeoutMs: 20_000 })).stdout;
    expect(live).toContain('value="7min"');
    expect(live).not.toContain('dummy2');
  }, 60_000);

  it('rolls back a CIB whose new resource fails to start, and the cluster keeps the rest running', async () => {
    const driver = pacemaker();
    const subnet = lab.gatewayAddress.replace(/\.254$/, '');
    const failing = cib.replace(
      '</resources>',
      `  <primitive id="vip-broken" class="ocf" provider="heartbeat" type="IPaddr2">\n        <instance_attributes id="vip-broken-instance_attributes">\n          <nvpair id="vip-broken-instance_attributes-ip" name="ip" value="${subnet}.99"/>\n          <nvpair id="vip-broken-instance_attributes-nic" name="nic" value="nosuchnic0"/>\n        </instance_attributes>\n      </primitive>\n    </resources>`,
    );
    const t0 = Date.now();
    await expect(applyArtifact(driver, failing, logger)).rejects.toMatchObject({
      step: 'check',
      message: expect.stringMatching(/new failed actions after the CIB push: vip-broken_start_0 on controller-\d.*the previous CIB configuration was restored/),
    });
    console.log(`CIB with a failing resource pushed, detected and rolled back in ${Date.now() - t0} ms`);
    const status = await driver.status();
    expect(status.resources.map((r) => r.id)).not.toContain('vip-broken');
    expect(status.resources.find((r) => r.id === 'dummy')).toMatchObject({ active: true });
  }, 120_000);

  it('reloads a running corosync with a new corosync.conf and sees this node in a quorate membership', async () => {
    const configFile = lab.hostPath(NODE, '/etc/corosync/corosync.conf');
    const driver = new CorosyncDriver({ nodeName: NODE, configFile, logger, run: inside(NODE) });
    const next = corosyncConf.replace('token: 1000', 'token: 1200');
    const t0 = Date.now();
    await applyArtifact(driver, next, logger);
    console.log(`corosync.conf applied and reloaded in ${Date.now() - t0} ms`);
    expect(readFileSync(configFile, 'utf8')).toBe(next);
    const runtime = await inside(NODE)(CLUSTER_TOOLS.corosyncCmapctl, ['-g', 'totem.token'], { timeoutMs: 10_000 });
    expect(runtime.stdout).toContain('= 1200');
    const health = await driver.probe();
    expect(health).toMatchObject({ state: 'COMPONENT_OK', summary: 'quorate: 3/3 votes, 3 members' });
    expect(corosyncHealthDetailSchema.parse(JSON.parse(health.detailJson ?? '')).quorum?.members.find((m) => m.local)?.name).toBe(NODE);
  }, 60_000);

  it('rolls back a corosync.conf that costs the cluster its quorum, and quorum comes back', async () => {
    const configFile = lab.hostPath(NODE, '/etc/corosync/corosync.conf');
    const before = readFileSync(configFile, 'utf8');
    const driver = new CorosyncDriver({ nodeName: NODE, configFile, logger, run: inside(NODE), checkTimeoutMs: 5_000 });
    // Three nodes that do not exist: 6 expected votes, 4 needed, 3 present.
    const subnet = lab.gatewayAddress.replace(/\.254$/, '');
    const ghosts = [4, 5, 6].map((i) => `    node {\n        ring0_addr: ${subnet}.${40 + i}\n        name: controller-${i}\n        nodeid: ${i}\n    }\n`).join('');
    const t0 = Date.now();
    await expect(applyArtifact(driver, before.replace(/(nodelist \{\n)/, `$1${ghosts}`), logger)).rejects.toMatchObject({
      step: 'check',
      message: expect.stringMatching(/not quorate \(3\/6 votes, 4 needed\).*the previous corosync.conf was restored/),
    });
    console.log(`corosync.conf without quorum rolled back in ${Date.now() - t0} ms`);
    expect(readFileSync(configFile, 'utf8')).toBe(before);
    expect(await driver.probe()).toMatchObject({ state: 'COMPONENT_OK', summary: 'quorate: 3/3 votes, 3 members' });
  }, 60_000);
});
