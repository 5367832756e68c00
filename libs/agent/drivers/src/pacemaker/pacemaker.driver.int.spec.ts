import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyArtifact, DriverError, runFile } from '@triad/agent-core';
import { createLogger } from '@triad/logging';
import { renderCib } from '@triad/render';
import { parseSpecText, specWithNewNode, validateClusterSpec, type ClusterSpec } from '@triad/spec';
import { labClusterSpec } from '@triad/testing';
import { CLUSTER_TOOLS } from './cluster-tools';
import { PacemakerDriver } from './pacemaker.driver';

const logger = createLogger('pacemaker-driver-test', { level: 'silent' });
type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form edits of a parsed YAML fixture

function seedWith(edit: (raw: Raw) => void = () => undefined): ClusterSpec {
  const file = join(__dirname, '../../../../../examples/seed-3-active-active.yaml');
  const raw = parseSpecText(readFileSync(file, 'utf8'), file) as Raw;
  edit(raw);
  const { spec, problems } = validateClusterSpec(raw);
  if (!spec) throw new Error(JSON.stringify(problems));
  return spec;
}

const cibOf = (spec: ClusterSpec) => renderCib(spec, 'controller-1').content;
/** The seed, and the seed with three fewer services (so three fewer VIPs). */
const seed = cibOf(seedWith());
const smaller = cibOf(seedWith((raw) => (raw.services = (raw.services as unknown[]).slice(0, -3))));

describe(PacemakerDriver.name, () => {
  let dir: string;
  let cibFile: string;
  let driver: PacemakerDriver;

  const cib = async (...args: string[]) => (await runFile(CLUSTER_TOOLS.cibadmin, args, 10_000, { env: { CIB_file: cibFile } })).stdout;
  const resourceIds = async () => [...(await cib('--query', '--scope', 'resources')).matchAll(/<primitive id="([^"]+)"/g)].map((m) => m[1]);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'triad-pcmk-'));
    cibFile = join(dir, 'cib.xml');
    // A cluster that does not manage anything yet.
    await writeFile(cibFile, (await runFile(CLUSTER_TOOLS.cibadmin, ['--empty'], 10_000)).stdout);
    driver = new PacemakerDriver({ nodeName: 'controller-1', workDir: join(dir, 'work'), cibFile, logger });
    await driver.start();
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('applies a rendered CIB: the live CIB then defines its resources', async () => {
    const t0 = Date.now();
    await applyArtifact(driver, seed, logger);
    console.log(`rendered seed CIB applied to a file-backed CIB in ${Date.now() - t0} ms`);
    expect(await resourceIds()).toEqual(expect.arrayContaining(['vip-keystone', 'vip-horizon', 'haproxy', 'galera', 'ipmi-controller-1']));
    expect(await cib('--query', '--scope', 'crm_config')).toContain('name="cluster-name" value="seed"');
  });

  it('pushes nothing when the live CIB already has the configuration', async () => {
    await applyArtifact(driver, seed, logger);
    const before = (await cib('--query')).split('\n')[0];
    await applyArtifact(driver, seed, logger);
    expect((await cib('--query')).split('\n')[0]).toBe(before);
  });

  it('fails a CIB crm_verify rejects with crm_verify\'s message and leaves the live CIB unchanged', async () => {
    await applyArtifact(driver, smaller, logger);
    const before = await cib('--query');
    const broken = seed.replace('</constraints>', '  <rsc_colocation id="broken" rsc="no-such-resource" with-rsc="vip-keystone" score="INFINITY"/>\n    </constraints>');
    const failure = applyArtifact(driver, broken, logger);
    await expect(failure).rejects.toThrow(DriverError);
    await expect(failure).rejects.toMatchObject({ step: 'validate', message: expect.stringMatching(/crm_verify rejected the CIB: .*no-such-resource/) });
    expect(await cib('--query')).toBe(before);
  });

  it('refuses to push when someone else changed the configuration between read and push, and overwrites nothing', async () => {
    await applyArtifact(driver, smaller, logger);
    await driver.stage(seed);
    await driver.validate();
    // An operator changes the cluster meanwhile.
    await runFile(CLUSTER_TOOLS.cibadmin, ['--modify', '--scope', 'crm_config', '--xml-text', '<cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-cluster-recheck-interval" name="cluster-recheck-interval" value="5min"/></cluster_property_set>'], 10_000, { env: { CIB_file: cibFile } });
    const theirs = await cib('--query');

    const push = driver.swap();
    await expect(push).rejects.toMatchObject({ step: 'swap', message: expect.stringMatching(/refusing to push the CIB: its configuration changed since it was read \(version 0\.\d+\.0 → 0\.\d+\.0.*nothing was overwritten/) });
    expect(await cib('--query')).toBe(theirs);
    expect(await resourceIds()).not.toContain('vip-horizon');
  });

  it('succeeds when another node pushed the same configuration in between', async () => {
    await driver.stage(seed);
    await driver.validate();
    const other = new PacemakerDriver({ nodeName: 'controller-2', workDir: join(dir, 'other'), cibFile, logger });
    await applyArtifact(other, seed, logger);
    const theirs = await cib('--query');
    await driver.swap();
    expect(await cib('--query')).toBe(theirs);
  });

  it('still pushes when only the status section changed meanwhile', async () => {
    await driver.stage(seed);
    await driver.validate();
    await runFile(CLUSTER_TOOLS.cibadmin, ['--create', '--scope', 'status', '--xml-text', '<node_state id="1" uname="controller-1" in_ccm="true" crmd="online" join="member" expected="member"/>'], 10_000, { env: { CIB_file: cibFile } });
    await driver.swap();
    expect(await resourceIds()).toContain('vip-horizon');
    expect(await cib('--query', '--scope', 'status')).toContain('uname="controller-1"');
  });

  it('rolls back to the previous configuration', async () => {
    await applyArtifact(driver, smaller, logger);
    const previous = await cib('--query', '--scope', 'configuration');
    await driver.stage(seed);
    await driver.validate();
    await driver.swap();
    expect(await resourceIds()).toContain('vip-horizon');

    expect(await driver.rollback()).toMatch(/previous CIB configuration was restored/);
    expect(await cib('--query', '--scope', 'configuration')).toBe(previous);
  });

  it('keeps what the cluster owns: Pacemaker\'s own options and an operator\'s standby', async () => {
    await applyArtifact(driver, smaller, logger);
    await runFile(CLUSTER_TOOLS.cibadmin, ['--modify', '--scope', 'crm_config', '--xml-text', '<cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-dc-version" name="dc-version" value="2.1.5"/></cluster_property_set>'], 10_000, { env: { CIB_file: cibFile } });
    await runFile(CLUSTER_TOOLS.cibadmin, ['--modify', '--scope', 'nodes', '--xml-text', '<node id="2" uname="controller-2"><instance_attributes id="nodes-2"><nvpair id="nodes-2-standby" name="standby" value="on"/></instance_attributes></node>'], 10_000, { env: { CIB_file: cibFile } });
    await applyArtifact(driver, seed, logger);
    expect(await resourceIds()).toContain('vip-horizon');
    expect(await cib('--query', '--scope', 'crm_config')).toContain('name="dc-version" value="2.1.5"');
    expect(await cib('--query', '--scope', 'nodes')).toContain('name="standby" value="on"');
  });

  it('pushes a new Galera membership through the hold (unmanaged, then managed again) and the CIB ends exactly as rendered', async () => {
    const three = labClusterSpec({ addresses: ['127.0.9.1', '127.0.9.2', '127.0.9.3'] });
    const placed = specWithNewNode(three, 'controller-4', ['127.0.9.4']);
    if (!('spec' in placed)) throw new Error(placed.refusal);
    await applyArtifact(driver, cibOf(three), logger);
    await applyArtifact(driver, cibOf(placed.spec), logger);
    const live = await cib('--query', '--scope', 'resources');
    expect(live).toContain('value="gcomm://127.0.9.1,127.0.9.2,127.0.9.3,127.0.9.4"');
    expect(live).toContain('name="promoted-max" value="4"');
    expect(live).not.toContain('is-managed');
    // Nothing more to do: the same CIB again pushes nothing.
    const header = (await cib('--query')).split('\n')[0];
    await applyArtifact(driver, cibOf(placed.spec), logger);
    expect((await cib('--query')).split('\n')[0]).toBe(header);
  });

  it('reports the cluster DOWN when Pacemaker does not run on this node', async () => {
    const live = new PacemakerDriver({ nodeName: 'controller-1', workDir: join(dir, 'live'), logger });
    const health = await live.probe();
    expect(health.state).toBe('COMPONENT_DOWN');
    expect(health.summary).toMatch(/pacemaker does not answer on this node/);
  });
});
