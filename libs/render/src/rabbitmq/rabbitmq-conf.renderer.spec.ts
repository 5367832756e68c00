import { labClusterSpec } from '@triad/testing';
import { sha256Hex } from '../artifact';
import { DEFAULT_HOST_PROFILE } from '../host-profile';
import { UnknownNodeError } from '../node-lookup';
import { renderCib } from '../pacemaker/cib.renderer';
import { renderNode } from '../render-node';
import { renderRabbitmqConf, renderRabbitmqDefinitions, renderRabbitmqEnvConf } from './rabbitmq-conf.renderer';

const ADDRESSES = ['172.16.2.11', '172.16.2.12', '172.16.2.13'];

/** key → value of a rabbitmq.conf, refusing a key set twice (RabbitMQ would keep only one). */
function settings(conf: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of conf.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [key, value] = line.split(' = ');
    if (key in out) throw new Error(`${key} set twice`);
    out[key] = value;
  }
  return out;
}

describe(renderRabbitmqConf.name, () => {
  const spec = labClusterSpec({ addresses: ADDRESSES });

  it('is the same bytes and digest every time', () => {
    const a = renderRabbitmqConf(spec, 'controller-3');
    expect(renderRabbitmqConf(structuredClone(spec), 'controller-3').content).toBe(a.content);
    expect(a.sha256).toBe(sha256Hex(a.content));
    expect(a.name).toBe('rabbitmq.conf');
  });

  it('listens on the node’s internal address and lists every node for classic_config discovery', () => {
    expect(settings(renderRabbitmqConf(spec, 'controller-3').content)).toMatchObject({
      'listeners.tcp.default': '172.16.2.13:5672',
      'cluster_formation.peer_discovery_backend': 'classic_config',
      'cluster_formation.classic_config.nodes.1': 'rabbit@controller-1',
      'cluster_formation.classic_config.nodes.2': 'rabbit@controller-2',
      'cluster_formation.classic_config.nodes.3': 'rabbit@controller-3',
      'distribution.listener.interface': '172.16.2.13',
      'distribution.listener.port_range.min': '25672',
      'distribution.listener.port_range.max': '25672',
    });
  });

  it('applies the spec’s partition handling, tick time, memory watermark and port', () => {
    const tuned = labClusterSpec({ addresses: ADDRESSES, rabbitmq: { partitionHandling: 'autoheal', netTickTime: 30, memoryHighWatermark: 0.6, port: 5673 } });
    expect(settings(renderRabbitmqConf(tuned, 'controller-1').content)).toMatchObject({
      cluster_partition_handling: 'autoheal',
      net_ticktime: '30',
      'vm_memory_high_watermark.relative': '0.6',
      'listeners.tcp.default': '172.16.2.11:5673',
    });
    expect(settings(renderRabbitmqConf(spec, 'controller-1').content)).toMatchObject({ cluster_partition_handling: 'pause_minority', net_ticktime: '15', 'vm_memory_high_watermark.relative': '0.4' });
  });

  it('never carries the Erlang cookie', () => {
    const conf = renderRabbitmqConf(spec, 'controller-1').content;
    expect(conf).not.toMatch(/cookie/i);
    expect(conf).not.toContain('rabbitmq-erlang-cookie');
    expect(renderRabbitmqDefinitions(spec, 'controller-1').content).not.toMatch(/cookie|password/i);
  });

  it('loads the definitions file from the host profile’s path, and takes lab node names and ports from the profile', () => {
    const profile = {
      ...DEFAULT_HOST_PROFILE,
      rabbitmq: {
        ...DEFAULT_HOST_PROFILE.rabbitmq,
        definitionsPath: '/srv/defs.json',
        erlangNodeNames: { 'controller-1': 'r1@localhost', 'controller-2': 'r2@localhost', 'controller-3': 'r3@localhost' },
        distributionInterface: '127.0.0.1',
        distributionPort: 31000,
      },
    };
    expect(settings(renderRabbitmqConf(spec, 'controller-2', profile).content)).toMatchObject({
      load_definitions: '/srv/defs.json',
      'cluster_formation.classic_config.nodes.2': 'r2@localhost',
      'distribution.listener.interface': '127.0.0.1',
      'distribution.listener.port_range.min': '31000',
    });
    expect(settings(renderRabbitmqConf(spec, 'controller-2').content).load_definitions).toBe('/etc/rabbitmq/definitions.json');
  });

  it('refuses a node that is not in the spec', () => {
    expect(() => renderRabbitmqConf(spec, 'controller-9')).toThrow(UnknownNodeError);
  });
});

describe(renderRabbitmqDefinitions.name, () => {
  it('makes quorum the default queue type of the / vhost, with no mirroring policy', () => {
    const defs = JSON.parse(renderRabbitmqDefinitions(labClusterSpec({ addresses: ADDRESSES }), 'controller-1').content);
    expect(defs).toEqual({ vhosts: [{ name: '/', metadata: { default_queue_type: 'quorum' } }], policies: [] });
  });

  it('mirrors classic queues matching the spec’s pattern on a majority of nodes for classic-mirrored', () => {
    const spec = labClusterSpec({ addresses: ADDRESSES, rabbitmq: { queueType: 'classic-mirrored', haPolicyPattern: '^(?!amq\\.).*' } });
    const defs = JSON.parse(renderRabbitmqDefinitions(spec, 'controller-1').content);
    expect(defs.vhosts).toEqual([{ name: '/' }]);
    expect(defs.policies).toEqual([
      { vhost: '/', name: 'ha-all', pattern: '^(?!amq\\.).*', 'apply-to': 'all', priority: 0, definition: { 'ha-mode': 'exactly', 'ha-params': 2, 'ha-promote-on-shutdown': 'always' } },
    ]);
  });

  it('declares the same ha-all policy the Pacemaker resource agent sets from cib.xml', () => {
    const spec = labClusterSpec({ addresses: [...ADDRESSES, '172.16.2.14', '172.16.2.15'], rabbitmq: { queueType: 'classic-mirrored' } });
    const setPolicy = /name="set_policy" value="([^"]*)"/.exec(renderCib(spec, 'controller-1').content);
    expect(setPolicy).not.toBeNull();
    const unescaped = (setPolicy?.[1] ?? '').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const [name, pattern, definition] = unescaped.split(' ');
    const [policy] = JSON.parse(renderRabbitmqDefinitions(spec, 'controller-1').content).policies;
    expect({ name: policy.name, pattern: policy.pattern, definition: policy.definition }).toEqual({ name, pattern, definition: JSON.parse(definition) });
  });

  it('is identical on every node, so each node loading it at boot agrees', () => {
    const spec = labClusterSpec({ addresses: ADDRESSES });
    const digests = spec.topology.nodes.map((n) => renderRabbitmqDefinitions(spec, n.name).sha256);
    expect(new Set(digests).size).toBe(1);
  });
});

describe(renderRabbitmqEnvConf.name, () => {
  const spec = labClusterSpec({ addresses: ADDRESSES });

  it('names the node, pins its distribution port and puts epmd on the internal address', () => {
    const env = renderRabbitmqEnvConf(spec, 'controller-2').content;
    expect(env.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([
      "NODENAME='rabbit@controller-2'",
      "DIST_PORT='25672'",
      "CONFIG_FILE='/etc/rabbitmq/rabbitmq.conf'",
      "MNESIA_BASE='/var/lib/rabbitmq/mnesia'",
      "LOG_BASE='/var/log/rabbitmq'",
      "export ERL_EPMD_ADDRESS='172.16.2.12'",
      "export ERL_EPMD_PORT='4369'",
    ]);
    expect(env).not.toMatch(/cookie/i);
  });

  it('refuses a host path that cannot be quoted for the shell that sources it', () => {
    const profile = { ...DEFAULT_HOST_PROFILE, rabbitmq: { ...DEFAULT_HOST_PROFILE.rabbitmq, logBase: "/var/log/it's" } };
    expect(() => renderRabbitmqEnvConf(spec, 'controller-1', profile)).toThrow(/cannot be quoted/);
  });
});

describe('renderNode', () => {
  it('ships galera.cnf, rabbitmq.conf and the definitions rabbitmq.conf loads with every node’s artifacts', () => {
    const spec = labClusterSpec({ addresses: ADDRESSES });
    const names = renderNode(spec, 'controller-1').map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(['galera.cnf', 'rabbitmq.conf', 'rabbitmq-definitions.json', 'rabbitmq-env.conf']));
  });
});
