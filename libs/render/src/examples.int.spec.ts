import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import { parseSpecText, specNodeNames, validateClusterSpec, type ClusterSpec } from '@triad/spec';
import { DEFAULT_HOST_PROFILE, type HostProfile } from './host-profile';
import { renderCib } from './pacemaker/cib.renderer';
import { whatIf } from './pacemaker/what-if.runner';
import { renderNode } from './render-node';

/**
 * Every example spec, rendered and checked by the real tools. Golden files are refreshed with
 * `examples/refresh-rendered.sh` (see docs/spec.md).
 */
const run = promisify(execFile);
const EXAMPLES = join(__dirname, '../../../examples');

function loadExample(file: string): ClusterSpec {
  const { spec, problems } = validateClusterSpec(parseSpecText(readFileSync(join(EXAMPLES, file), 'utf8'), file));
  if (!spec) throw new Error(`${file} is invalid: ${JSON.stringify(problems)}`);
  return spec;
}

const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((file) => ({ name: file.replace(/\.yaml$/, ''), spec: loadExample(file) }));

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'triad-render-test-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

it('has the three documented examples', () => {
  expect(examples.map((e) => e.name)).toEqual(['five-with-fencing', 'seed-3-active-active', 'three-active-passive']);
});

describe.each(examples)('example $name', ({ name, spec }) => {
  it('renders exactly the committed golden files, byte for byte', async () => {
    const goldenDir = join(EXAMPLES, 'rendered', name);
    expect((await readdir(goldenDir)).sort()).toEqual(specNodeNames(spec).sort());
    for (const node of specNodeNames(spec)) {
      const artifacts = renderNode(spec, node);
      expect((await readdir(join(goldenDir, node))).sort()).toEqual(artifacts.map((a) => a.name));
      for (const a of artifacts) {
        const golden = await readFile(join(goldenDir, node, a.name), 'utf8');
        // On failure: run examples/refresh-rendered.sh if the change is intended, and review the diff.
        expect({ file: `${name}/${node}/${a.name}`, content: a.content }).toEqual({
          file: `${name}/${node}/${a.name}`,
          content: golden,
        });
      }
    }
  });

  it('renders a haproxy.cfg that haproxy -c accepts on every node', async () => {
    const profile: HostProfile = {
      ...DEFAULT_HOST_PROFILE,
      haproxy: { ...DEFAULT_HOST_PROFILE.haproxy, statsSocket: join(workDir, `${name}-admin.sock`) },
    };
    for (const node of specNodeNames(spec)) {
      const cfg = renderNode(spec, node, profile).find((a) => a.name === 'haproxy.cfg');
      const file = join(workDir, `${name}-${node}-haproxy.cfg`);
      await writeFile(file, cfg?.content ?? '');
      const { stdout, stderr } = await run('/usr/sbin/haproxy', ['-c', '-f', file]);
      expect(stdout).toContain('Configuration file is valid');
      expect(stderr).not.toMatch(/WARNING|ALERT/);
    }
  });

  it('renders a corosync.conf that corosync -t accepts on every node', async () => {
    // corosync -t wants its own address on an interface and a key file: give it both in private
    // network and mount namespaces (a tmpfs over /etc/corosync), nothing on this host changes.
    const script = [
      'mount -t tmpfs none /etc/corosync',
      'head -c 256 /dev/urandom > /etc/corosync/authkey',
      'chmod 400 /etc/corosync/authkey',
      'ip link set lo up',
      'ip addr add "$1" dev lo',
      'exec /usr/sbin/corosync -t -c "$0"',
    ].join(' && ');
    for (const node of spec.topology.nodes) {
      const conf = renderNode(spec, node.name).find((a) => a.name === 'corosync.conf');
      const file = join(workDir, `${name}-${node.name}-corosync.conf`);
      await writeFile(file, conf?.content ?? '');
      const address = `${node.managementAddress}/${node.managementAddress.includes(':') ? 128 : 32}`;
      await expect(
        run('/usr/bin/unshare', ['-m', '-n', '--propagation', 'private', '--', '/bin/sh', '-c', script, file, address]),
      ).resolves.toBeDefined();
    }
  });

  it('renders a CIB that crm_verify accepts', async () => {
    const file = join(workDir, `${name}-cib.xml`);
    await writeFile(file, renderCib(spec, specNodeNames(spec)[0]).content);
    await expect(run('/usr/sbin/crm_verify', ['--xml-file', file])).resolves.toBeDefined();
  });

  it('renders the same CIB for every node', () => {
    const cibs = new Set(specNodeNames(spec).map((n) => renderCib(spec, n).sha256));
    expect(cibs.size).toBe(1);
  });

  it('places every VIP on a node running HAProxy, and after losing any one node every VIP and Galera still have a home', async () => {
    const nodes = specNodeNames(spec);
    const report = await whatIf(renderCib(spec, nodes[0]).content, nodes);
    expect(report.problems).toEqual([]);
    const vipIds = Object.keys(report.placement.vips);
    expect(vipIds.length).toBeGreaterThan(0);
    expect(report.placement.haproxyNodes).toEqual([...nodes].sort());
    expect(report.placement.galeraPromotedNodes).toHaveLength(nodes.length);
    for (const { lostNode, placement } of report.losses) {
      for (const vip of vipIds) {
        expect(placement.vips[vip]).not.toBeNull();
        expect(placement.vips[vip]).not.toBe(lostNode);
        expect(placement.haproxyNodes).toContain(placement.vips[vip]);
      }
      expect(placement.galeraPromotedNodes).toHaveLength(nodes.length - 1);
      expect(placement.galeraPromotedNodes).not.toContain(lostNode);
    }
    expect(report.losses.map((l) => l.lostNode)).toEqual(nodes);
  }, 60_000);
});
