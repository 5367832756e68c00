import { renderNode } from '@triad/render';
import { cibWithoutResources, clusterMembership, clusterStackFiles, startClusterStack, waitForMembership } from './cluster-stack';
import { Lab } from './lab';
import { labClusterSpec } from './lab-cluster-spec';

async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
  return true;
}

describe(startClusterStack.name, () => {
  const name = 'labpcmk';
  let lab: Lab;

  beforeAll(async () => {
    lab = await Lab.up({ name, controllers: 3, net: 213, services: [] });
  }, 120_000);

  afterAll(() => Lab.down(name), 120_000);

  it('forms a 3-node Corosync/Pacemaker cluster with a DC from rendered configuration', async () => {
    const spec = labClusterSpec(lab);
    const files = Object.fromEntries(
      lab.controllers.map((c) => {
        const f = clusterStackFiles(renderNode(spec, c.name));
        return [c.name, { ...f, 'cib.xml': cibWithoutResources(f['cib.xml'] ?? '') }];
      }),
    );
    const { membership, elapsedMs } = await startClusterStack(lab, files, { timeoutMs: 120_000 });
    console.log(`3 nodes online with DC ${membership.dc} ${elapsedMs} ms after corosync started`);
    expect(membership.online.sort()).toEqual(['controller-1', 'controller-2', 'controller-3']);
    expect(membership.quorate).toBe(true);
    expect(membership.dc).toMatch(/^controller-\d$/);
  }, 180_000);

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
});
