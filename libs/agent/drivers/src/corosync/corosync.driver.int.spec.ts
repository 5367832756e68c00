import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyArtifact } from '@triad/agent-core';
import { createLogger } from '@triad/logging';
import { renderCorosyncConf } from '@triad/render';
import { labClusterSpec } from '@triad/testing';
import { ClusterStack } from '../cluster-stack/cluster-stack';
import { CorosyncDriver } from './corosync.driver';
import { corosyncConfProblems } from './corosync-conf';

const logger = createLogger('corosync-driver-test', { level: 'silent' });

/** controller-1 on 127.0.0.1: `corosync -t` finds this host's own address in the nodelist. */
function conf(addresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3']): string {
  const spec = labClusterSpec({ addresses });
  return renderCorosyncConf({ ...spec, corosync: { ...spec.corosync, crypto: { cipher: 'none', hash: 'none' } } }, 'controller-1').content;
}

describe(corosyncConfProblems.name, () => {
  it('accepts a rendered corosync.conf that names this node', () => {
    expect(corosyncConfProblems(conf(), 'controller-1')).toEqual([]);
  });

  it('finds what corosync -t lets through: this node missing, a name twice', () => {
    expect(corosyncConfProblems(conf(), 'controller-7')).toEqual(['this node (controller-7) is not in the nodelist']);
    expect(corosyncConfProblems(conf().replace('name: controller-2', 'name: controller-1'), 'controller-1')).toEqual(['name controller-1 appears twice in the nodelist']);
  });

  it('reports an unbalanced brace', () => {
    expect(corosyncConfProblems(conf().replace(/}\s*$/, ''), 'controller-1')).toEqual(['missing closing brace for section logging']);
  });
});

describe(CorosyncDriver.name, () => {
  let dir: string;
  let configFile: string;
  let driver: CorosyncDriver;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'triad-corosync-'));
    configFile = join(dir, 'corosync.conf');
    driver = new CorosyncDriver({ nodeName: 'controller-1', configFile, logger });
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('installs a valid file while corosync does not run, keeping the previous one, and reports corosync DOWN', async () => {
    expect((await driver.probe()).state).toBe('COMPONENT_NOT_CONFIGURED');
    await writeFile(configFile, '# the old one\n');
    await applyArtifact(driver, conf(), logger);
    expect(readFileSync(configFile, 'utf8')).toBe(conf());
    expect(readFileSync(`${configFile}.previous`, 'utf8')).toBe('# the old one\n');
    expect(await driver.probe()).toMatchObject({ state: 'COMPONENT_DOWN', summary: 'corosync is not running' });
  });

  it('fails a file corosync -t rejects with its message and keeps the live file', async () => {
    await writeFile(configFile, conf());
    const bad = conf().replace('transport: knet', 'transport: carrier-pigeon');
    await expect(applyArtifact(driver, bad, logger)).rejects.toMatchObject({ step: 'validate', message: expect.stringContaining('corosync -t rejected corosync.conf: ') });
    await expect(applyArtifact(driver, bad, logger)).rejects.toThrow(/Invalid transport type/);
    expect(readFileSync(configFile, 'utf8')).toBe(conf());
    expect(existsSync(`${configFile}.staged`)).toBe(false);
  });

  it('fails a file without this node before running anything', async () => {
    await expect(applyArtifact(new CorosyncDriver({ nodeName: 'controller-9', configFile, logger }), conf(), logger)).rejects.toThrow('corosync.conf rejected: this node (controller-9) is not in the nodelist');
    expect(existsSync(configFile)).toBe(false);
  });

  it('starts the cluster stack when corosync does not run, and rolls the file back when the stack cannot start', async () => {
    await writeFile(configFile, '# the old one\n');
    // The host's start command (a real process): here it fails, like a systemctl without the units.
    const stack = new ClusterStack({ startCommands: [['/bin/sh', '-c', 'echo Unit corosync.service not found. >&2; exit 5']], stopCommands: [['/bin/true']], logger });
    const withStack = new CorosyncDriver({ nodeName: 'controller-1', configFile, logger, stack });
    await expect(applyArtifact(withStack, conf(), logger)).rejects.toMatchObject({
      step: 'reload',
      message: expect.stringContaining('could not start the cluster stack: cluster stack start: `/bin/sh -c echo Unit corosync.service not found. >&2; exit 5` exited 5: Unit corosync.service not found.'),
    });
    expect(readFileSync(configFile, 'utf8')).toBe('# the old one\n');
  });
});
