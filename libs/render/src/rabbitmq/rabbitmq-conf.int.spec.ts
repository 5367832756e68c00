import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import type { ClusterSpec, ClusterSpecInput } from '@triad/spec';
import {
  freePort,
  labClusterSpec,
  labLoopbackAddresses,
  rabbitmqNodePaths,
  runTool,
  startRabbitmqCluster,
  type RabbitmqCluster,
  type RabbitmqNodeConfig,
} from '@triad/testing';
import { DEFAULT_HOST_PROFILE, type HostProfile } from '../host-profile';
import { renderRabbitmqConf, renderRabbitmqDefinitions, renderRabbitmqEnvConf } from './rabbitmq-conf.renderer';

/**
 * Three nodes on one machine share one epmd, so they need distinct Erlang names (`<run>-<node>@localhost`),
 * their own distribution ports, and distribution on 127.0.0.1 (where `localhost` resolves);
 * AMQP listens on each node's own loopback address from the spec.
 */
async function renderLab(spec: ClusterSpec, baseDir: string, epmdPort: number): Promise<Record<string, RabbitmqNodeConfig>> {
  const run = basename(baseDir).replace(/[^a-zA-Z0-9]/g, '');
  const erlangNodeNames = Object.fromEntries(spec.topology.nodes.map((n) => [n.name, `${run}-${n.name}@localhost`]));
  const configs: Record<string, RabbitmqNodeConfig> = {};
  for (const node of spec.topology.nodes) {
    const paths = rabbitmqNodePaths(baseDir, node.name);
    const distPort = await freePort();
    const profile: HostProfile = {
      ...DEFAULT_HOST_PROFILE,
      rabbitmq: {
        ...DEFAULT_HOST_PROFILE.rabbitmq,
        configPath: paths.configFile,
        logBase: paths.logBase,
        mnesiaBase: paths.mnesiaBase,
        definitionsPath: paths.definitionsFile,
        erlangNodeNames,
        distributionInterface: '127.0.0.1',
        distributionPort: distPort,
        epmdAddress: '127.0.0.1',
        epmdPort,
      },
    };
    configs[node.name] = {
      erlangNodeName: erlangNodeNames[node.name],
      distPort,
      rabbitmqConf: renderRabbitmqConf(spec, node.name, profile).content,
      definitions: renderRabbitmqDefinitions(spec, node.name).content,
      // Node name, dist port, paths and epmd come from the rendered env file, not from the harness.
      envConf: renderRabbitmqEnvConf(spec, node.name, profile).content,
    };
  }
  return configs;
}

/** Sends the AMQP 0-9-1 protocol header and names the first frame the broker answers with. */
function amqpGreeting(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')));
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no AMQP answer from ${host}:${port}`)));
    socket.once('error', reject);
    socket.once('data', (frame) => {
      socket.destroy();
      // A method frame (type 1) on channel 0 carrying class 10 (connection), method 10 (start).
      const isStart = frame[0] === 1 && frame.readUInt16BE(1) === 0 && frame.readUInt16BE(7) === 10 && frame.readUInt16BE(9) === 10;
      resolve(isStart ? 'connection.start' : `unexpected frame ${frame.subarray(0, 12).toString('hex')}`);
    });
  });
}

async function startFromSpec(rabbitmq: Partial<ClusterSpecInput['rabbitmq']>): Promise<{ spec: ClusterSpec; cluster: RabbitmqCluster }> {
  const spec = labClusterSpec({ addresses: labLoopbackAddresses(3), rabbitmq });
  const baseDir = mkdtempSync(join(tmpdir(), 'triad-rmq-'));
  // The spec names the cookie's secret; the harness plays the agent that resolved it.
  const epmdPort = await freePort();
  const cluster = await startRabbitmqCluster({ configs: await renderLab(spec, baseDir, epmdPort), cookie: randomBytes(20).toString('hex'), baseDir, epmdPort });
  return { spec, cluster };
}

describe('rendered rabbitmq.conf on real RabbitMQ 3.10 (Erlang 25)', () => {
  jest.setTimeout(240_000);
  let cluster: RabbitmqCluster | undefined;

  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('forms a 3-node cluster by classic_config peer discovery, each node named and listening as rendered', async () => {
    const started = await startFromSpec({});
    cluster = started.cluster;
    // The figure the closing note quotes.
    console.info(`rabbitmq: 3 nodes running in one cluster in ${cluster.formedInMs} ms`, cluster.milestones);

    const all = cluster.nodes.map((n) => n.erlangNodeName).sort();
    for (const node of cluster.nodes) {
      const status = await node.clusterStatus();
      expect(status.running_nodes.slice().sort()).toEqual(all);
      expect(status.disk_nodes.slice().sort()).toEqual(all);
      expect(status.partitions).toEqual({});
    }
    // Every node answers AMQP 0-9-1 on its own internal address and the spec's port.
    for (const node of started.spec.topology.nodes) {
      expect(await amqpGreeting(node.internalAddress, started.spec.rabbitmq.port)).toBe('connection.start');
    }
    // Data and epmd as rabbitmq-env.conf says: the private epmd knows the nodes, the machine's does not.
    const privateEpmd = await runTool('/usr/bin/epmd', ['-port', String(cluster.epmdPort), '-names']);
    const machineEpmd = await runTool('/usr/bin/epmd', ['-port', '4369', '-names']).catch(() => '');
    for (const node of cluster.nodes) {
      expect(await node.ctl(['eval', 'rabbit_mnesia:dir().'])).toContain(node.paths.mnesiaBase);
      const shortName = node.erlangNodeName.split('@')[0];
      expect(privateEpmd).toContain(`name ${shortName} at port`);
      expect(machineEpmd).not.toContain(shortName);
    }
    // Partition handling and tick time come from the rendered file.
    expect((await cluster.nodes[2].ctl(['eval', 'application:get_env(rabbit, cluster_partition_handling).'])).trim()).toBe('{ok,pause_minority}');
    expect((await cluster.nodes[2].ctl(['eval', 'net_kernel:get_net_ticktime().'])).trim()).toBe('15');
    // Quorum is the / vhost's default queue type on every node (loaded from the definitions file).
    for (const node of cluster.nodes) {
      expect((await node.ctl(['eval', 'vhost:get_metadata(rabbit_vhost:lookup(<<"/">>)).'])).trim()).toContain('default_queue_type => <<"quorum">>');
    }
  });

  it('puts the classic-mirrored HA policy on every node when the spec asks for it', async () => {
    cluster = (await startFromSpec({ queueType: 'classic-mirrored' })).cluster;
    console.info(`rabbitmq (classic-mirrored): 3 nodes running in one cluster in ${cluster.formedInMs} ms`, cluster.milestones);
    for (const node of cluster.nodes) {
      const policies = JSON.parse(await node.ctl(['list_policies', '--formatter', 'json'])) as { name: string; pattern: string; definition: string }[];
      expect(policies).toEqual([expect.objectContaining({ name: 'ha-all', pattern: '^(?!amq\\.).*' })]);
      // rabbitmqctl prints the definition as a JSON string.
      expect(JSON.parse(policies[0].definition)).toEqual({ 'ha-mode': 'exactly', 'ha-params': 2, 'ha-promote-on-shutdown': 'always' });
    }
  });
});
