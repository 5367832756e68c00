import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSpecText, validateClusterSpec, type ClusterSpec } from '@triad/spec';
import { renderCib } from './cib.renderer';
import { whatIf } from './what-if.runner';

function seedSpec(): ClusterSpec {
  const file = join(__dirname, '../../../../examples/seed-3-active-active.yaml');
  const { spec } = validateClusterSpec(parseSpecText(readFileSync(file, 'utf8'), file));
  if (!spec) throw new Error('seed example must be valid');
  return spec;
}

describe(whatIf.name, () => {
  it('reports a VIP left without a home when the only node allowed to run it is lost', async () => {
    const spec = seedSpec();
    // A hand-edited CIB that keeps vip-keystone off controller-2 and controller-3.
    const bans = ['controller-2', 'controller-3']
      .map((n) => `<rsc_location id="ban-keystone-${n}" rsc="vip-keystone" node="${n}" score="-INFINITY"/>`)
      .join('');
    const cib = renderCib(spec, 'controller-1').content.replace('</constraints>', `${bans}</constraints>`);

    const report = await whatIf(cib, ['controller-1', 'controller-2', 'controller-3']);

    expect(report.placement.vips['vip-keystone']).toBe('controller-1');
    expect(report.problems).toEqual([
      {
        code: 'VIP_WITHOUT_HOME',
        lostNode: 'controller-1',
        resource: 'vip-keystone',
        message: 'vip-keystone runs nowhere after losing controller-1.',
      },
    ]);
  }, 60_000);

  it('reports Galera without a promoted node when the cluster cannot promote it', async () => {
    const spec = seedSpec();
    // Galera may only run on controller-1: losing it leaves no promoted instance.
    const bans = ['controller-2', 'controller-3']
      .map((n) => `<rsc_location id="ban-galera-${n}" rsc="galera-clone" node="${n}" score="-INFINITY"/>`)
      .join('');
    const cib = renderCib(spec, 'controller-1').content.replace('</constraints>', `${bans}</constraints>`);

    const report = await whatIf(cib, ['controller-1', 'controller-2', 'controller-3']);

    expect(report.placement.galeraPromotedNodes).toEqual(['controller-1']);
    expect(report.problems.map((p) => [p.code, p.lostNode])).toEqual([['GALERA_NOT_PROMOTED', 'controller-1']]);
  }, 60_000);
});
