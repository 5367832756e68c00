import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyArtifact } from '@triad/agent-core';
import { createLogger } from '@triad/logging';
import { renderNode } from '@triad/render';
import { specWithNewNode, type ClusterSpec } from '@triad/spec';
import { waitFor } from '@triad/testing';
// The lab tool drives real controllers (network namespaces); its library is what its docs offer tests.
/* eslint-disable @nx/enforce-module-boundaries */
import { cibWithoutClones, renderLabClusterFiles, startClusterStack } from '../../../../../tools/lab/src/cluster-stack';
import { Lab } from '../../../../../tools/lab/src/lab';
import { LAB_HOST_PROFILE, labClusterSpec } from '../../../../../tools/lab/src/lab-cluster-spec';
/* eslint-enable @nx/enforce-module-boundaries */
import { HOLD_ID_SUFFIX, withHolds, configurationOf } from './cib-document';
import { CLUSTER_TOOLS, nsenterRunner, type ToolRunner } from './cluster-tools';
import { PacemakerDriver } from './pacemaker.driver';
import { parseXml, serializeXml } from './xml-tree';

const logger = createLogger('pacemaker-hold-lab-test', { level: 'silent' });
const NODE = 'controller-1';
const MEMBERS = ['controller-1', 'controller-2', 'controller-3'];

/**
 * The galera primitive carries the membership (wsrep_cluster_address, cluster_host_map) and its
 * agent has no reload: pushed as is, a new membership restarts every Galera member at once. The
 * driver holds the clone unmanaged, refreshes its probes and gives it back (docs/scale-out.md).
 * A 3-controller lab running VIPs, HAProxy and Galera under Pacemaker; the CIB a fourth node
 * brings is pushed by the driver, and every member's mariadbd must keep running.
 */
describe('Pacemaker driver: a new Galera membership without restarting Galera (live lab)', () => {
  const name = `ph${process.pid}`.slice(0, 12);
  let lab: Lab;
  let dir: string;
  let three: ClusterSpec;
  let four: ClusterSpec;

  const inside = (node: string): ToolRunner => nsenterRunner((argv) => lab.enterCommand(node, argv));
  const pacemaker = () => new PacemakerDriver({ nodeName: NODE, workDir: join(dir, 'pacemaker'), logger, run: inside(NODE), checkTimeoutMs: 120_000 });
  const cibOf = (spec: ClusterSpec) => cibWithoutClones(renderNode(spec, NODE, LAB_HOST_PROFILE).find((a) => a.name === 'cib.xml')?.content ?? '', ['rabbitmq-clone']);
  const liveConfiguration = async () => (await inside(NODE)(CLUSTER_TOOLS.cibadmin, ['--query', '--scope', 'configuration'], { timeoutMs: 20_000 })).stdout;
  /** Seconds each member's mariadbd has been up. */
  const uptimes = async () =>
    Promise.all(
      MEMBERS.map(async (m) => {
        const r = await lab.exec(m, ['/usr/bin/mysql', '-uroot', '-N', '-e', "SHOW STATUS LIKE 'Uptime'"]);
        return Number(/Uptime\s+(\d+)/.exec(r.stdout)?.[1] ?? 'NaN');
      }),
    );
  const promotedEverywhere = async () => {
    const galera = (await pacemaker().status()).resources.filter((r) => r.parent === 'galera-clone' || r.id === 'galera');
    return galera.filter((r) => r.role === 'Promoted' && r.active).length === MEMBERS.length;
  };
  /** Galera promoted on every member; crm_mon's view in the failure otherwise. */
  const expectPromotedEverywhere = async () => {
    if (!(await promotedEverywhere())) expect((await lab.exec(NODE, ['/usr/sbin/crm_mon', '-1', '--include=failures'])).stdout).toBe('galera promoted on every member');
  };
  /** Every member's mariadbd kept running since `before` was read `since` ms ago. */
  const expectNoRestart = async (before: number[], since: number) => {
    const after = await uptimes();
    const elapsed = (Date.now() - since) / 1000;
    MEMBERS.forEach((m, i) => expect({ m, restarted: (after[i] ?? 0) < (before[i] ?? 0) + elapsed - 3 }).toEqual({ m, restarted: false }));
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'triad-pcmk-hold-'));
    lab = await Lab.up({ name, controllers: 3, services: [] });
    three = labClusterSpec(lab);
    const placed = specWithNewNode(three, 'controller-4', [`${lab.gatewayAddress.replace(/\.254$/, '')}.4`]);
    if (!('spec' in placed)) throw new Error(placed.refusal);
    four = placed.spec;
    await startClusterStack(lab, renderLabClusterFiles(lab, three, 'haproxy-vips-galera'), { timeoutMs: 120_000 });
    const t0 = Date.now();
    await waitFor('galera promoted on the three members', promotedEverywhere, 240_000, 2_000);
    console.log(`galera promoted on 3 members in ${Date.now() - t0} ms after the cluster formed`);
  }, 420_000);

  afterAll(async () => {
    await Lab.down(name);
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('pushes the membership with controller-4 and no member restarts; the CIB ends exactly as rendered, managed', async () => {
    const before = await uptimes();
    const since = Date.now();
    await applyArtifact(pacemaker(), cibOf(four), logger);
    console.log(`4-member galera parameters applied (hold, refresh, probes, release) in ${Date.now() - since} ms`);
    const live = await liveConfiguration();
    expect(live).toContain(`name="wsrep_cluster_address" value="gcomm://${lab.controllers.map((c) => c.address).join(',')},${four.topology.nodes[3]?.internalAddress}"`);
    expect(live).toContain('name="promoted-max" value="4"');
    expect(live).not.toContain(HOLD_ID_SUFFIX);
    expect(live).not.toContain('is-managed');
    // Pacemaker would act on a stale digest within a transition: give it time to (not) do so.
    await new Promise((r) => setTimeout(r, 10_000));
    await expectPromotedEverywhere();
    expect((await pacemaker().status()).resources.filter((r) => r.id === 'galera' && r.active).map((r) => r.managed)).toEqual([true, true, true]);
    await expectNoRestart(before, since);
  }, 300_000);

  it('finishes a hold an apply left behind (stopped after its first push): the next plain push gives the resource back without a restart', async () => {
    // What the driver's first step pushes when going back to three members, and then nothing more.
    const held = withHolds(configurationOf(parseXml(cibOf(three))), ['galera-clone']);
    const pushed = await inside(NODE)(CLUSTER_TOOLS.cibadmin, ['--replace', '--scope', 'resources', '--xml-pipe'], {
      timeoutMs: 20_000,
      input: serializeXml(held.children.find((c) => c.name === 'resources') ?? held),
    });
    expect(pushed.code).toBe(0);
    expect(await liveConfiguration()).toContain(HOLD_ID_SUFFIX);
    const before = await uptimes();
    const since = Date.now();
    await applyArtifact(pacemaker(), cibOf(three), logger);
    const live = await liveConfiguration();
    expect(live).not.toContain(HOLD_ID_SUFFIX);
    expect(live).toContain('name="promoted-max" value="3"');
    await new Promise((r) => setTimeout(r, 10_000));
    await expectPromotedEverywhere();
    await expectNoRestart(before, since);
  }, 300_000);

  it("a VIP's new address still restarts the VIP (not start-only)", async () => {
    const subnet = lab.gatewayAddress.replace(/\.254$/, '');
    const moved = cibOf(three).replace(`name="ip" value="${subnet}.100"`, `name="ip" value="${subnet}.101"`);
    expect(moved).not.toBe(cibOf(three));
    const before = await uptimes();
    const since = Date.now();
    await applyArtifact(pacemaker(), moved, logger);
    expect(await liveConfiguration()).not.toContain(HOLD_ID_SUFFIX);
    const holders = async () => (await Promise.all(MEMBERS.map(async (m) => ((await lab.exec(m, ['/usr/sbin/ip', '-4', '-o', 'addr'])).stdout.includes(` ${subnet}.101/`) ? [m] : [])))).flat();
    await waitFor('the VIP on its new address', async () => (await holders()).length === 1, 30_000, 1_000);
    // Galera's parameters did not change: it stays up.
    await expectNoRestart(before, since);
  }, 120_000);
});
