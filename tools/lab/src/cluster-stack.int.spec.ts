import { clusterMembership, renderLabClusterFiles, startClusterStack, waitForMembership } from './cluster-stack';
import { Lab } from './lab';
import { labClusterSpec } from './lab-cluster-spec';

async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
  return true;
}

async function answeringNode(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return ((await res.json()) as { node: string }).node;
  } catch {
    return undefined;
  }
}

describe(startClusterStack.name, () => {
  // Unique per run: another run of this suite (another engineer, CI) may be using the lab at once.
  const name = `lp${process.pid}`;
  let lab: Lab;
  let keystoneVip: string;

  async function vipHolder(resource: string): Promise<string | undefined> {
    const r = await lab.exec('controller-1', ['/usr/sbin/crm_resource', '--locate', '--resource', resource]);
    return /running on: (\S+)/.exec(r.stdout)?.[1];
  }

  beforeAll(async () => {
    lab = await Lab.up({ name, controllers: 3 });
    keystoneVip = `http://${labClusterSpec(lab).services.find((s) => s.name === 'keystone')?.vip}:5000/v3`;
  }, 120_000);

  afterAll(() => Lab.down(name), 120_000);

  it('forms a 3-node Corosync/Pacemaker cluster with a DC from rendered configuration', async () => {
    const files = renderLabClusterFiles(lab, labClusterSpec(lab), 'all');
    const { membership, elapsedMs } = await startClusterStack(lab, files, { timeoutMs: 120_000 });
    console.log(`3 nodes online with DC ${membership.dc} ${elapsedMs} ms after corosync started`);
    expect(membership.online.sort()).toEqual(['controller-1', 'controller-2', 'controller-3']);
    expect(membership.quorate).toBe(true);
    expect(membership.dc).toMatch(/^controller-\d$/);
  }, 180_000);

  it('serves keystone on its VIP through the HAProxy clone Pacemaker runs', async () => {
    const t0 = Date.now();
    expect(await eventually(async () => (await answeringNode(keystoneVip)) !== undefined, 90_000)).toBe(true);
    console.log(`keystone VIP answering ${Date.now() - t0} ms after the cluster formed (held by ${await vipHolder('vip-keystone')})`);
    // HAProxy balances over the stand-ins of every controller.
    const answered = new Set<string | undefined>();
    for (let i = 0; i < 12; i++) answered.add(await answeringNode(keystoneVip));
    expect(answered.size).toBeGreaterThan(1);
  }, 120_000);

  it('promotes the Galera clone on every controller: one Synced 3-node cluster', async () => {
    const t0 = Date.now();
    const synced = async () => {
      const mon = await lab.exec('controller-1', ['/usr/sbin/crm_mon', '-1']);
      if (!/Promoted: \[ controller-1 controller-2 controller-3 \]/.test(mon.stdout)) return false;
      for (const c of lab.controllers) {
        const r = await lab.exec(c.name, ['/usr/bin/mysql', '-uroot', '-N', '-e', "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size','wsrep_local_state_comment')"]);
        if (!r.stdout.includes('wsrep_cluster_size\t3') || !r.stdout.includes('Synced')) return false;
      }
      return true;
    };
    expect(await eventually(synced, 240_000)).toBe(true);
    console.log(`Galera: promoted everywhere, 3 nodes Synced ${Date.now() - t0} ms after the cluster formed`);
  }, 300_000);

  it('starts the RabbitMQ clone on every controller: one 3-node RabbitMQ cluster', async () => {
    const t0 = Date.now();
    const clustered = async () => {
      const r = await lab.exec('controller-2', ['/usr/sbin/rabbitmqctl', 'cluster_status', '--formatter', 'json'], { timeoutMs: 20_000 });
      try {
        return (JSON.parse(r.stdout) as { running_nodes: string[] }).running_nodes.length === 3;
      } catch {
        return false;
      }
    };
    expect(await eventually(clustered, 400_000)).toBe(true);
    console.log(`RabbitMQ: 3 nodes running ${Date.now() - t0} ms after Galera was Synced`);
  }, 420_000);

  it('a cut controller loses quorum while the other two keep theirs, and rejoins when healed', async () => {
    await lab.cut('controller-3');
    const t0 = Date.now();
    const majority = await waitForMembership(lab, 'controller-1', 2, 60_000);
    console.log(`majority of 2 seen ${Date.now() - t0} ms after the cut`);
    expect(majority.offline).toEqual(['controller-3']);
    expect(await eventually(async () => (await clusterMembership(lab, 'controller-3'))?.quorate === false)).toBe(true);

    await lab.heal('controller-3');
    const t1 = Date.now();
    const healed = await waitForMembership(lab, 'controller-1', 3, 90_000);
    console.log(`3 nodes online again ${Date.now() - t1} ms after heal`);
    expect(healed.online).toHaveLength(3);
  }, 180_000);

  it('moves the VIP when the controller holding it is powered off, and takes the controller back', async () => {
    expect(await eventually(async () => (await vipHolder('vip-keystone')) !== undefined, 60_000)).toBe(true);
    const holder = (await vipHolder('vip-keystone')) ?? '';
    const survivor = lab.controllers.find((c) => c.name !== holder)?.name ?? '';
    await lab.stop(holder);
    const t0 = Date.now();
    if (!(await eventually(async () => (await answeringNode(keystoneVip)) !== undefined, 90_000))) {
      // Say what Pacemaker thought, for whoever reads the failure.
      const mon = await lab.exec(survivor, ['/usr/sbin/crm_mon', '-1', '-r', '-f']);
      throw new Error(`keystone VIP ${keystoneVip} not answering 90 s after ${holder} was powered off; crm_mon on ${survivor}:\n${mon.stdout}${mon.stderr ?? ''}`);
    }
    console.log(`keystone VIP answering again ${Date.now() - t0} ms after ${holder} was powered off`);
    const newHolder = await lab.exec(survivor, ['/usr/sbin/crm_resource', '--locate', '--resource', 'vip-keystone']);
    expect(newHolder.stdout).not.toContain(holder);

    await lab.start(holder);
    const t1 = Date.now();
    await waitForMembership(lab, survivor, 3, 90_000);
    console.log(`${holder} back in the cluster ${Date.now() - t1} ms after start`);
  }, 240_000);
});
