import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseSpecText, specNodeNames, validateClusterSpec, type ClusterSpec } from '@triad/spec';
import { renderCib } from './cib.renderer';
import { whatIf } from './what-if.runner';

const run = promisify(execFile);
type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form edits of a parsed YAML fixture

function seedWith(edit: (raw: Raw) => void): ClusterSpec {
  const file = join(__dirname, '../../../../examples/seed-3-active-active.yaml');
  const raw = parseSpecText(readFileSync(file, 'utf8'), file) as Raw;
  edit(raw);
  const { spec, problems } = validateClusterSpec(raw);
  if (!spec) throw new Error(JSON.stringify(problems));
  return spec;
}

/** Spec variants the examples do not cover, each of which must give a CIB Pacemaker accepts. */
const variants: { name: string; spec: ClusterSpec }[] = [
  {
    name: 'cluster and node maintenance',
    spec: seedWith((raw) => {
      raw.pacemaker.maintenance = { cluster: true, nodes: ['controller-2'] };
    }),
  },
  {
    name: 'STONITH disabled and acknowledged, no fencing devices',
    spec: seedWith((raw) => {
      raw.pacemaker = { properties: { stonithEnabled: false } };
      raw.acknowledgedWarnings = ['STONITH_DISABLED'];
    }),
  },
  {
    name: 'two nodes with an arbitrator (Active/Passive)',
    spec: seedWith((raw) => {
      raw.topology.mode = 'ACTIVE_PASSIVE';
      raw.topology.nodes.pop();
      raw.pacemaker.fencing.devices.pop();
      raw.galera.arbitrator = { address: '172.16.2.200' };
    }),
  },
  {
    name: 'IPv6 VIPs with an explicit interface',
    spec: seedWith((raw) => {
      raw.topology.networks.public = { cidr: 'fd00:20::/64', nic: 'eth1' };
      raw.services = [
        { name: 'keystone', vip: 'fd00:20::10' },
        { name: 'horizon', vip: 'fd00:20::11' },
      ];
    }),
  },
];

describe(renderCib.name, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'triad-cib-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(variants)('renders a CIB crm_verify accepts: $name', async ({ name, spec }) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.xml`);
    await writeFile(file, renderCib(spec, specNodeNames(spec)[0]).content);
    await expect(run('/usr/sbin/crm_verify', ['--xml-file', file])).resolves.toBeDefined();
  });

  it('delays fencing randomly in a two-node cluster so both halves of a split cannot fence each other at once', () => {
    const cib = renderCib(variants[2].spec, 'controller-1').content;
    expect(cib).toContain('<nvpair id="ipmi-controller-1-instance_attributes-pcmk_delay_max" name="pcmk_delay_max" value="15s"/>');
    expect(renderCib(variants[0].spec, 'controller-1').content).not.toContain('pcmk_delay_max');
  });

  it('keeps every VIP and Galera served when either node of a two-node cluster is lost', async () => {
    const spec = variants[2].spec;
    const report = await whatIf(renderCib(spec, 'controller-1').content, specNodeNames(spec));
    expect(report.problems).toEqual([]);
    expect(report.losses.map((l) => l.placement.galeraPromotedNodes)).toEqual([['controller-2'], ['controller-1']]);
  }, 60_000);

  it('judges the placement design of a cluster in maintenance as if it were managed', async () => {
    const spec = variants[0].spec;
    const report = await whatIf(renderCib(spec, 'controller-1').content, specNodeNames(spec));
    expect(report.problems).toEqual([]);
    expect(Object.values(report.placement.vips).every((node) => node !== null)).toBe(true);
  }, 60_000);

  it('makes crm_verify fail when a constraint names a missing resource (the check can fail)', async () => {
    const file = join(dir, 'broken.xml');
    const cib = renderCib(variants[0].spec, 'controller-1').content.replace('with-rsc="haproxy-clone"', 'with-rsc="haproxy-clon"');
    await writeFile(file, cib);
    await expect(run('/usr/sbin/crm_verify', ['--xml-file', file])).rejects.toMatchObject({ code: 78 });
  });
});
