import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ActionRefusedError, applyArtifact, DriverError } from '@triad/agent-core';
import { createLogger } from '@triad/logging';
import { rabbitmqHealthDetailSchema } from '@triad/protocol';
import { DEFAULT_HOST_PROFILE, renderRabbitmqConf, renderRabbitmqDefinitions, renderRabbitmqEnvConf, type HostProfile } from '@triad/render';
import type { ClusterSpec, ClusterSpecInput } from '@triad/spec';
import { freePort, labClusterSpec, labLoopbackAddresses, RABBITMQ_BIN_DIR, rabbitmqNodePaths, startRabbitmqCluster, type RabbitmqCluster } from '@triad/testing';
import { NodeActions } from '../actions/node-actions';
import { RabbitmqDriver } from './rabbitmq.driver';

const logger = createLogger('rabbitmq-driver-test', { level: 'silent' });

describe(RabbitmqDriver.name, () => {
  jest.setTimeout(600_000);
  const addresses = labLoopbackAddresses(3);
  const baseDir = mkdtempSync(join(tmpdir(), 'triad-rmq-drv-'));
  const names = ['controller-1', 'controller-2', 'controller-3'];
  const run = basename(baseDir).replace(/[^a-zA-Z0-9]/g, '');
  // Three nodes on one machine share one epmd: distinct Erlang names, distribution on 127.0.0.1.
  const erlangNodeNames = Object.fromEntries(names.map((n) => [n, `${run}-${n}@localhost`]));
  const profiles: Record<string, HostProfile> = {};
  const drivers: Record<string, RabbitmqDriver> = {};
  let cluster: RabbitmqCluster | undefined;

  const labSpec = (rabbitmq: Partial<ClusterSpecInput['rabbitmq']> = {}): ClusterSpec => labClusterSpec({ addresses, rabbitmq });
  const rendered = (spec: ClusterSpec, n: string): Record<string, string> => ({
    'rabbitmq.conf': renderRabbitmqConf(spec, n, profiles[n]).content,
    'rabbitmq-env.conf': renderRabbitmqEnvConf(spec, n, profiles[n]).content,
    'rabbitmq-definitions.json': renderRabbitmqDefinitions(spec, n).content,
  });
  /** What the agent's revision applier does: every artifact through its driver, in the drivers' order. */
  const applyRevision = async (spec: ClusterSpec, n: string): Promise<void> => {
    const files = rendered(spec, n);
    for (const d of drivers[n].drivers()) await applyArtifact(d, files[d.artifact], logger);
  };

  beforeAll(async () => {
    const epmdPort = await freePort();
    for (const n of names) {
      const paths = rabbitmqNodePaths(baseDir, n);
      profiles[n] = {
        ...DEFAULT_HOST_PROFILE,
        rabbitmq: {
          ...DEFAULT_HOST_PROFILE.rabbitmq,
          configPath: paths.configFile,
          logBase: paths.logBase,
          mnesiaBase: paths.mnesiaBase,
          definitionsPath: paths.definitionsFile,
          erlangNodeNames,
          distributionInterface: '127.0.0.1',
          distributionPort: await freePort(),
          epmdAddress: '127.0.0.1',
          epmdPort,
        },
      };
    }
    const spec = labSpec();
    const configs = Object.fromEntries(
      names.map((n) => {
        const files = rendered(spec, n);
        return [n, { erlangNodeName: erlangNodeNames[n], distPort: profiles[n].rabbitmq.distributionPort ?? 0, rabbitmqConf: files['rabbitmq.conf'], envConf: files['rabbitmq-env.conf'], definitions: files['rabbitmq-definitions.json'] }];
      }),
    );
    cluster = await startRabbitmqCluster({ configs, cookie: randomBytes(20).toString('hex'), baseDir, epmdPort });
    console.info(`rabbitmq: 3 nodes running in ${cluster.formedInMs} ms`);
    for (const n of names) {
      const paths = rabbitmqNodePaths(baseDir, n);
      drivers[n] = new RabbitmqDriver({
        mode: 'managed',
        node: {
          binDir: RABBITMQ_BIN_DIR,
          erlangNodeName: erlangNodeNames[n],
          pidFile: paths.pidFile,
          consoleLogFile: join(paths.dir, 'driver-console.log'),
          // The environment the harness gives its nodes: the rendered env file decides the rest.
          env: {
            PATH: `${RABBITMQ_BIN_DIR}:/usr/sbin:/usr/bin:/sbin:/bin`,
            HOME: join(baseDir, 'home'),
            LANG: 'C.UTF-8',
            LC_ALL: 'C.UTF-8',
            RABBITMQ_CONF_ENV_FILE: paths.confEnvFile,
            RABBITMQ_ADVANCED_CONFIG_FILE: paths.advancedConfigFile,
            RABBITMQ_ENABLED_PLUGINS_FILE: paths.enabledPluginsFile,
            RABBITMQ_PID_FILE: paths.pidFile,
            RABBITMQ_CTL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
          },
        },
        configFile: paths.configFile,
        envConfFile: paths.confEnvFile,
        definitionsFile: paths.definitionsFile,
        logger,
        startTimeoutMs: 120_000,
        // Every probe here must see the node as it is now.
        probeMaxAgeMs: 0,
      });
    }
  });

  afterAll(async () => {
    // Nodes the driver restarted are not the harness's children any more: stop them by pid file first.
    await Promise.all(Object.values(drivers).map((d) => d.node.stopServer(60_000).catch(() => undefined)));
    await cluster?.stop();
  });

  it('probes every node of a healthy cluster as 3 running nodes without partitions', async () => {
    for (const n of names) {
      const health = await drivers[n].probe();
      expect(health).toMatchObject({ component: 'rabbitmq', state: 'COMPONENT_OK', summary: '3 of 3 nodes running, no partitions' });
      const detail = rabbitmqHealthDetailSchema.parse(JSON.parse(health.detailJson ?? ''));
      expect(detail.runningNodes).toEqual(Object.values(erlangNodeNames).sort());
      expect(detail.partitions).toEqual({});
      expect(detail.alarms).toEqual([]);
    }
  });

  it('sees a node whose app stopped as missing, and its restart brings the cluster back to 3', async () => {
    const [first, , third] = names;
    await drivers[third].node.ctl(['stop_app']);
    const degraded = await drivers[first].probe();
    expect(degraded).toMatchObject({ state: 'COMPONENT_DEGRADED', summary: `2 of 3 nodes running; not running: ${erlangNodeNames[third]}` });
    expect(rabbitmqHealthDetailSchema.parse(JSON.parse(degraded.detailJson ?? '')).runningNodes).toHaveLength(2);
    expect((await drivers[third].probe()).state).toBe('COMPONENT_DOWN');

    const started = Date.now();
    await drivers[third].restartNode();
    console.info(`rabbitmq: restartNode took ${Date.now() - started} ms`);
    for (const n of names) expect((await drivers[n].probe()).summary).toBe('3 of 3 nodes running, no partitions');
  });

  it('applies a changed rabbitmq.conf by restarting that node only, which comes back into the cluster with the new setting', async () => {
    const target = drivers['controller-2'];
    const others = [drivers['controller-1'], drivers['controller-3']];
    const pid = await target.node.pid();
    const otherPids = await Promise.all(others.map((d) => d.node.pid()));
    const started = Date.now();
    await applyRevision(labSpec({ memoryHighWatermark: 0.5 }), 'controller-2');
    console.info(`rabbitmq: apply with a restart took ${Date.now() - started} ms`);
    expect(await target.node.pid()).not.toBe(pid);
    expect((await target.node.ctl(['eval', 'vm_memory_monitor:get_vm_memory_high_watermark().'])).trim()).toBe('0.5');
    expect(await Promise.all(others.map((d) => d.node.pid()))).toEqual(otherPids);
    for (const n of names) expect((await drivers[n].probe()).state).toBe('COMPONENT_OK');
  });

  it('imports changed definitions into the running node without a restart', async () => {
    const target = drivers['controller-2'];
    const pid = await target.node.pid();
    await applyRevision(labSpec({ memoryHighWatermark: 0.5, queueType: 'classic-mirrored' }), 'controller-2');
    expect(await target.node.pid()).toBe(pid);
    const policies = JSON.parse(await target.node.ctl(['list_policies', '--formatter', 'json'])) as { name: string }[];
    expect(policies.map((p) => p.name)).toEqual(['ha-all']);

    // The same revision again leaves the node alone.
    await applyRevision(labSpec({ memoryHighWatermark: 0.5, queueType: 'classic-mirrored' }), 'controller-2');
    expect(await target.node.pid()).toBe(pid);
  });

  it('refuses a rabbitmq.conf that does not parse and keeps the live files', async () => {
    const paths = rabbitmqNodePaths(baseDir, 'controller-1');
    const live = readFileSync(paths.configFile, 'utf8');
    const err = await applyArtifact(drivers['controller-1'], `${live}listeners.tcp.default\n`, logger).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err).toMatchObject({ step: 'validate', message: expect.stringContaining('is not "key = value": listeners.tcp.default') });
    expect(readFileSync(paths.configFile, 'utf8')).toBe(live);
    expect(existsSync(`${paths.configFile}.staged`)).toBe(false);
  });

  it('in pacemaker mode installs the files but leaves the node to Pacemaker', async () => {
    const d = drivers['controller-1'];
    const underPacemaker = new RabbitmqDriver({ mode: 'pacemaker', node: d.node.opts, configFile: rabbitmqNodePaths(baseDir, 'controller-1').configFile, envConfFile: rabbitmqNodePaths(baseDir, 'controller-1').confEnvFile, definitionsFile: rabbitmqNodePaths(baseDir, 'controller-1').definitionsFile, logger });
    const pid = await d.node.pid();
    const files = rendered(labSpec({ memoryHighWatermark: 0.6 }), 'controller-1');
    for (const driver of underPacemaker.drivers()) await applyArtifact(driver, files[driver.artifact], logger);
    expect(readFileSync(rabbitmqNodePaths(baseDir, 'controller-1').configFile, 'utf8')).toBe(files['rabbitmq.conf']);
    expect(await d.node.pid()).toBe(pid);
    expect((await d.node.ctl(['eval', 'vm_memory_monitor:get_vm_memory_high_watermark().'])).trim()).toBe('0.4');
  });

  it('refuses to reset a node serving in the majority, and rejoins one that dropped out (reset, join_cluster)', async () => {
    await expect(drivers['controller-3'].rejoin(erlangNodeNames['controller-1'])).rejects.toThrow('its app runs in a majority (3 of 3 nodes)');
    await drivers['controller-3'].node.ctl(['stop_app']);
    const started = Date.now();
    await drivers['controller-3'].rejoin(erlangNodeNames['controller-1']);
    console.info(`rabbitmq: rejoin took ${Date.now() - started} ms`);
    for (const n of names) expect((await drivers[n].probe()).summary).toBe('3 of 3 nodes running, no partitions');
  });

  it('run_action: rabbitmq.rejoin does nothing on a node running with every configured node, rejoins one whose app stopped, and rabbitmq.restart brings a node back with all 3', async () => {
    const act = (n: string, action: 'rabbitmq.rejoin' | 'rabbitmq.restart') =>
      new NodeActions({ rabbitmq: drivers[n] }).run({ clusterId: '00000000-0000-4000-8000-000000000003', nodeName: n, action, args: {} }, logger);
    expect((await act('controller-2', 'rabbitmq.rejoin')).result).toMatchObject({ rejoined: false });

    await drivers['controller-2'].node.ctl(['stop_app']);
    const t0 = Date.now();
    const rejoined = await act('controller-2', 'rabbitmq.rejoin');
    console.info(`rabbitmq.rejoin action: ${Date.now() - t0} ms`);
    expect(rejoined.result).toMatchObject({ rejoined: true, seed: erlangNodeNames['controller-1'] });
    expect((rejoined.result?.runningNodes as string[]).sort()).toEqual(Object.values(erlangNodeNames).sort());

    const pid = await drivers['controller-1'].node.pid();
    const t1 = Date.now();
    const restarted = await act('controller-1', 'rabbitmq.restart');
    console.info(`rabbitmq.restart action: ${Date.now() - t1} ms`);
    expect(await drivers['controller-1'].node.pid()).not.toBe(pid);
    expect((restarted.result?.runningNodes as string[]).sort()).toEqual(Object.values(erlangNodeNames).sort());
  });

  it('run_action: refuses to restart a RabbitMQ node Pacemaker runs when it cannot see that Pacemaker let go of it', async () => {
    const d = drivers['controller-3'];
    const underPacemaker = new RabbitmqDriver({ mode: 'pacemaker', node: d.node.opts, configFile: rabbitmqNodePaths(baseDir, 'controller-3').configFile, envConfFile: rabbitmqNodePaths(baseDir, 'controller-3').confEnvFile, definitionsFile: rabbitmqNodePaths(baseDir, 'controller-3').definitionsFile, logger });
    const pid = await d.node.pid();
    const err = await new NodeActions({ rabbitmq: underPacemaker }).run({ clusterId: '00000000-0000-4000-8000-000000000003', nodeName: 'controller-3', action: 'rabbitmq.restart', args: {} }, logger).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionRefusedError);
    expect((err as Error).message).toContain('rabbitmq runs under Pacemaker here');
    expect(await d.node.pid()).toBe(pid);
  });
});
