import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyArtifact, DriverError, sleep } from '@triad/agent-core';
import { createLogger } from '@triad/logging';
import { galeraHealthDetailSchema } from '@triad/protocol';
import { DEFAULT_HOST_PROFILE, renderGaleraCnf, type HostProfile } from '@triad/render';
import type { ClusterSpec } from '@triad/spec';
import { galeraNodePaths, httpGetText, labClusterSpec, labLoopbackAddresses, startGaleraCluster, type GaleraCluster } from '@triad/testing';
import { GaleraDriver } from './galera.driver';

const logger = createLogger('galera-driver-test', { level: 'silent' });

function labProfile(baseDir: string, nodeName: string): HostProfile {
  const paths = galeraNodePaths(baseDir, nodeName);
  return {
    ...DEFAULT_HOST_PROFILE,
    galera: { ...DEFAULT_HOST_PROFILE.galera, configPath: paths.configFile, dataDir: paths.datadir, socket: paths.socket, pidFile: paths.pidFile, logFile: paths.errorLog, innodbBufferPoolSize: '32M' },
  };
}

function labSpec(addresses: string[], galera: { gcacheSize: string; maxConnections?: number }): ClusterSpec {
  return labClusterSpec({ addresses, galera: { clusterName: 'drv-galera', evs: { suspectTimeoutMs: 3500, inactiveTimeoutMs: 7000 }, ...galera } });
}

describe(GaleraDriver.name, () => {
  jest.setTimeout(600_000);
  const addresses = labLoopbackAddresses(3);
  const baseDir = mkdtempSync(join(tmpdir(), 'triad-galera-drv-'));
  const names = ['controller-1', 'controller-2', 'controller-3'];
  const render = (spec: ClusterSpec, name: string) => renderGaleraCnf(spec, name, labProfile(baseDir, name)).content;
  let cluster: GaleraCluster | undefined;
  const drivers: Record<string, GaleraDriver> = {};

  beforeAll(async () => {
    const spec = labSpec(addresses, { gcacheSize: '32M' });
    cluster = await startGaleraCluster({ configs: Object.fromEntries(names.map((n) => [n, render(spec, n)])), baseDir });
    console.info(`galera: 3 nodes Synced in ${cluster.formedInMs} ms`);
    for (const n of names) {
      const address = addresses[names.indexOf(n)];
      drivers[n] = new GaleraDriver({
        mode: 'managed',
        configFile: galeraNodePaths(baseDir, n).configFile,
        consoleLogFile: join(galeraNodePaths(baseDir, n).dir, 'driver-console.log'),
        logger,
        syncTimeoutMs: 120_000,
        // Port 0: a free one (the spec's 9200 may be taken on a shared machine).
        clustercheck: { host: address, port: 0 },
      });
      await drivers[n].start();
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(drivers).map((d) => d.stop()));
    // The driver started some of the mariadbd processes: the harness only stops its own.
    await Promise.all(Object.values(drivers).map((d) => d.stopServer({ killAfterMs: 20_000 }).catch(() => undefined)));
    await cluster?.stop();
  });

  it('probes a node of a healthy 3-node cluster as Synced, Primary, cluster size 3', async () => {
    for (const n of names) {
      const health = await drivers[n].probe();
      expect(health).toMatchObject({ component: 'galera', state: 'COMPONENT_OK' });
      const detail = galeraHealthDetailSchema.parse(JSON.parse(health.detailJson ?? ''));
      expect(detail).toMatchObject({ running: true, localState: 4, localStateComment: 'Synced', clusterStatus: 'Primary', clusterSize: 3, expectedClusterSize: 3, ready: true, connected: true });
      expect(detail.grastate).toMatchObject({ seqno: -1, safeToBootstrap: false });
    }
  });

  it('answers clustercheck 200 on a synced node and 503 while it is desynced or stopped', async () => {
    const driver = drivers['controller-3'];
    const check = () => httpGetText(driver.clustercheck?.port ?? 0, addresses[2]);
    expect(await check()).toBe('200 Galera cluster node is synced.\r\n');

    await driver.server.query('SET GLOBAL wsrep_desync = ON');
    expect(await check()).toBe('503 Galera cluster node is not synced.\r\n');
    await driver.server.query('SET GLOBAL wsrep_desync = OFF');
    expect(await check()).toMatch(/^200 /);

    expect(await driver.stopServer()).toBe(true);
    expect(await check()).toMatch(/^503 /);
    expect((await drivers['controller-1'].probe()).summary).toContain('cluster size 2 of 3');
    const down = await driver.probe();
    expect(down.state).toBe('COMPONENT_DOWN');
    // A clean shutdown records the position in grastate.dat.
    expect(galeraHealthDetailSchema.parse(JSON.parse(down.detailJson ?? '')).grastate?.seqno).toBeGreaterThanOrEqual(0);

    await driver.join();
    expect(await check()).toMatch(/^200 /);
    expect((await driver.probe()).state).toBe('COMPONENT_OK');
  });

  it('applies a galera.cnf change Galera reads only at start by restarting that one node, which comes back Synced', async () => {
    const target = drivers['controller-2'];
    const others = [drivers['controller-1'], drivers['controller-3']];
    const pidsBefore = await Promise.all(others.map((d) => d.server.pid()));
    const targetPid = await target.server.pid();
    const before = readFileSync(galeraNodePaths(baseDir, 'controller-2').configFile, 'utf8');

    const started = Date.now();
    await applyArtifact(target, render(labSpec(addresses, { gcacheSize: '48M' }), 'controller-2'), logger);
    console.info(`galera: restart of one node for a new galera.cnf took ${Date.now() - started} ms`);

    expect(await target.server.pid()).not.toBe(targetPid);
    expect((await target.server.query('SELECT @@wsrep_provider_options'))[0][0]).toContain('gcache.size = 48M');
    expect((await target.probe()).state).toBe('COMPONENT_OK');
    expect(readFileSync(`${galeraNodePaths(baseDir, 'controller-2').configFile}.previous`, 'utf8')).toBe(before);
    expect(await Promise.all(others.map((d) => d.server.pid()))).toEqual(pidsBefore);
    for (const d of others) expect((await d.probe()).state).toBe('COMPONENT_OK');
  });

  it('takes a max_connections change with SET GLOBAL, without restarting', async () => {
    const target = drivers['controller-2'];
    const pid = await target.server.pid();
    await applyArtifact(target, render(labSpec(addresses, { gcacheSize: '48M', maxConnections: 777 }), 'controller-2'), logger);
    expect(await target.server.pid()).toBe(pid);
    expect(await target.server.query('SELECT @@max_connections')).toEqual([['777']]);

    // The same revision again (another node's rollout step, a retry) leaves the node alone.
    await applyArtifact(target, render(labSpec(addresses, { gcacheSize: '48M', maxConnections: 777 }), 'controller-2'), logger);
    expect(await target.server.pid()).toBe(pid);
  });

  it('refuses a configuration mariadbd rejects, with its message, and keeps the live file', async () => {
    const file = galeraNodePaths(baseDir, 'controller-1').configFile;
    const live = readFileSync(file, 'utf8');
    const pid = await drivers['controller-1'].server.pid();
    const bad = `${render(labSpec(addresses, { gcacheSize: '32M' }), 'controller-1')}innodb_no_such_option = 1\n`;
    const err = await applyArtifact(drivers['controller-1'], bad, logger).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err).toMatchObject({ step: 'validate', message: expect.stringContaining("unknown variable 'innodb_no_such_option=1'") });
    expect(readFileSync(file, 'utf8')).toBe(live);
    expect(existsSync(`${file}.staged`)).toBe(false);
    expect(await drivers['controller-1'].server.pid()).toBe(pid);
  });

  it('rolls back to the previous file and restarts with it when the node does not come back with the new one', async () => {
    const target = drivers['controller-3'];
    const file = galeraNodePaths(baseDir, 'controller-3').configFile;
    const live = readFileSync(file, 'utf8');
    // mariadbd --help accepts it; Galera refuses it when the provider loads (suspect must exceed 3 keepalives).
    const unstartable = live.replace('evs.suspect_timeout=PT3.5S', 'evs.suspect_timeout=PT1S');
    expect(unstartable).not.toBe(live);
    const err = await applyArtifact(target, unstartable, logger).catch((e: unknown) => e);
    expect(err).toMatchObject({ step: 'reload', message: expect.stringContaining('the previous galera.cnf was restored and mariadbd restarted with it') });
    expect((err as Error).message).toMatch(/mariadbd exited with code \d+ while starting/);
    expect(readFileSync(file, 'utf8')).toBe(live);
    expect((await target.probe()).state).toBe('COMPONENT_OK');
  });

  it('in pacemaker mode installs a restart-worthy galera.cnf but leaves mariadbd to Pacemaker', async () => {
    const underPacemaker = new GaleraDriver({ mode: 'pacemaker', configFile: galeraNodePaths(baseDir, 'controller-1').configFile, logger });
    const pid = await underPacemaker.server.pid();
    const next = render(labSpec(addresses, { gcacheSize: '64M' }), 'controller-1');
    await applyArtifact(underPacemaker, next, logger);
    expect(readFileSync(galeraNodePaths(baseDir, 'controller-1').configFile, 'utf8')).toBe(next);
    expect(await underPacemaker.server.pid()).toBe(pid);
    expect((await underPacemaker.server.query('SELECT @@wsrep_provider_options'))[0][0]).toContain('gcache.size = 32M');
  });

  it('after kill -9 of every node, recovers each position and bootstraps from the most advanced one without losing a row', async () => {
    const first = drivers['controller-1'];
    await first.server.query('CREATE DATABASE drv; CREATE TABLE drv.t (id INT PRIMARY KEY); INSERT INTO drv.t VALUES (1), (2), (3)');
    const uuid = (await first.server.wsrepStatus())?.wsrep_cluster_state_uuid;
    const pids = await Promise.all(names.map((n) => drivers[n].server.pid()));
    for (const pid of pids) process.kill(pid ?? 0, 'SIGKILL');
    for (const n of names) while ((await drivers[n].server.pid()) !== undefined) await sleep(50);

    const positions: Record<string, { uuid: string; seqno: number }> = {};
    const started = Date.now();
    for (const n of names) {
      expect(await drivers[n].readGrastate()).toMatchObject({ uuid, seqno: -1, safeToBootstrap: false });
      positions[n] = await drivers[n].recoverPosition();
      expect(positions[n].uuid).toBe(uuid);
      expect(positions[n].seqno).toBeGreaterThan(0);
    }
    console.info(`galera: --wsrep-recover of 3 nodes took ${Date.now() - started} ms`, positions);

    const [winner, ...rest] = [...names].sort((a, b) => positions[b].seqno - positions[a].seqno);
    await drivers[winner].bootstrap({ startPosition: positions[winner], markSafeToBootstrap: true });
    // Alone, it is the whole cluster: a restart would end it.
    await expect(drivers[winner].restart()).rejects.toThrow('this node is the only member of its Galera cluster');
    for (const n of rest) await drivers[n].join({ startPosition: positions[n] });
    console.info(`galera: full-outage recovery (recover + bootstrap + 2 joins) took ${Date.now() - started} ms`);
    for (const n of names) {
      expect((await drivers[n].probe()).state).toBe('COMPONENT_OK');
      expect(await drivers[n].server.query('SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*) FROM drv.t')).toEqual([['3']]);
    }
  });
});
