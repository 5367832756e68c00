import { checkRabbitmqConf, checkRabbitmqDefinitions, checkRabbitmqEnvConf, classicConfigNodes, parseRabbitmqConf } from './rabbitmq-files';

const conf = [
  '# rendered by Triad',
  'listeners.tcp.default = 10.0.0.1:5672',
  'cluster_formation.peer_discovery_backend = classic_config',
  'cluster_formation.classic_config.nodes.2 = rabbit@controller-2',
  'cluster_formation.classic_config.nodes.1 = rabbit@controller-1',
  'cluster_partition_handling = pause_minority',
  '',
].join('\n');

describe(checkRabbitmqConf.name, () => {
  it('accepts a rendered file and lists its classic_config nodes in order', () => {
    expect(() => checkRabbitmqConf(conf)).not.toThrow();
    expect(classicConfigNodes(parseRabbitmqConf(conf))).toEqual(['rabbit@controller-1', 'rabbit@controller-2']);
  });

  it('names the line that is not key = value, and a missing clustering key', () => {
    expect(() => checkRabbitmqConf(`${conf}oops\n`)).toThrow('rabbitmq.conf line 7 is not "key = value": oops');
    expect(() => checkRabbitmqConf(conf.replace(/^cluster_partition_handling.*$/m, ''))).toThrow('rabbitmq.conf has no cluster_partition_handling');
  });
});

describe(checkRabbitmqEnvConf.name, () => {
  it('accepts quoted assignments and refuses anything the shell would run', () => {
    expect(() => checkRabbitmqEnvConf("# x\nNODENAME='rabbit@c1'\nexport ERL_EPMD_PORT='4369'\n")).not.toThrow();
    expect(() => checkRabbitmqEnvConf('NODENAME=$(reboot)\n')).toThrow("line 1 is not a NAME='value' assignment");
  });
});

describe(checkRabbitmqDefinitions.name, () => {
  it('wants a JSON object with array sections', () => {
    expect(() => checkRabbitmqDefinitions('{"vhosts":[{"name":"/"}],"policies":[]}')).not.toThrow();
    expect(() => checkRabbitmqDefinitions('{"vhosts":{}}')).toThrow('definitions: vhosts is not an array');
    expect(() => checkRabbitmqDefinitions('{')).toThrow('definitions are not JSON');
  });
});
