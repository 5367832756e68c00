import { validateClusterSpec } from './validate-cluster-spec';
import type { SpecProblem } from './spec-problem';

type Json = Record<string, unknown>;

/** A valid three-node spec; each test breaks one thing in its own copy. */
function validSpec(): Json {
  const nodes = [1, 2, 3].map((i) => ({
    name: `controller-${i}`,
    managementAddress: `192.168.24.1${i}`,
    internalAddress: `172.16.2.1${i}`,
  }));
  return {
    apiVersion: 'triad.io/v1',
    metadata: { name: 'test-cloud' },
    topology: {
      mode: 'ACTIVE_ACTIVE',
      nodes,
      networks: { public: { cidr: '10.20.0.0/24' }, internal: { cidr: '172.16.2.0/24' } },
    },
    services: [
      { name: 'keystone', vip: '10.20.0.10' },
      { name: 'nova-api', vip: '10.20.0.11' },
      { name: 'placement', vip: '172.16.2.111' },
    ],
    galera: { vip: '172.16.2.100' },
    rabbitmq: { erlangCookie: { secretRef: 'erlang-cookie' } },
    pacemaker: {
      fencing: {
        devices: nodes.map((n) => ({
          name: `ipmi-${n.name}`,
          agent: 'fence_ipmilan',
          params: { ip: `10.99.0.1${n.name.slice(-1)}`, username: 'admin', password: { secretRef: `ipmi-${n.name}` } },
          nodes: [n.name],
        })),
      },
    },
  };
}

/** Shorthand: navigate a plain object for a test to edit it. */
function at(spec: Json, ...keys: (string | number)[]): Json {
  return keys.reduce<Json>((obj, key) => obj[key] as Json, spec);
}

function problemsOf(spec: unknown): SpecProblem[] {
  return validateClusterSpec(spec).problems;
}

function expectProblem(spec: unknown, code: string, path: string, message: string | RegExp): void {
  const found = problemsOf(spec).filter((p) => p.code === code);
  expect(found).toContainEqual(
    expect.objectContaining({ code, path, message: typeof message === 'string' ? message : expect.stringMatching(message) }),
  );
}

describe(validateClusterSpec.name, () => {
  it('accepts a valid spec and fills in the documented defaults', () => {
    const { spec, problems } = validateClusterSpec(validSpec());
    expect(problems).toEqual([]);
    expect(spec).toBeDefined();
    expect(spec?.pacemaker.properties).toEqual({
      stonithEnabled: true,
      noQuorumPolicy: 'stop',
      clusterRecheckInterval: '15min',
      dcDeadtime: '20s',
    });
    expect(spec?.pacemaker.haproxyResource).toEqual({ kind: 'systemd', unit: 'haproxy' });
    expect(spec?.corosync).toEqual({ transport: 'knet', tokenMs: 10000, crypto: { cipher: 'aes256', hash: 'sha256' } });
    expect(spec?.galera).toMatchObject({ sstMethod: 'rsync', clustercheckPort: 9200, port: 3306, gcacheSize: '512M' });
    expect(spec?.rabbitmq).toMatchObject({ partitionHandling: 'pause_minority', queueType: 'quorum', netTickTime: 15 });
  });

  it('reports all ten problems of a spec with ten problems', () => {
    const spec = validSpec();
    at(spec, 'metadata').name = 'Test Cloud'; // 1 BAD_NAME
    at(spec, 'topology', 'nodes', 2).internalAddress = '172.16.2.300'; // 2 BAD_ADDRESS
    at(spec, 'topology', 'nodes', 1).managementAddress = '192.168.24.11'; // 3 DUPLICATE_NODE_ADDRESS
    at(spec, 'services', 0).vip = '10.30.0.10'; // 4 VIP_OUT_OF_SUBNET
    at(spec, 'services', 1).vip = '172.16.2.120'; // 5 VIP_OUT_OF_SUBNET (nova-api is public)
    (spec['services'] as Json[]).push({ name: 'ceilometer-api' }); // 6 UNKNOWN_SERVICE
    at(spec, 'rabbitmq').erlangCookie = 'chocolate-chip'; // 7 SECRET_INLINE
    at(spec, 'pacemaker').properties = { stonithEnabled: false }; // 8 STONITH_DISABLED
    at(spec, 'galera').arbitrator = { address: '172.16.2.50' }; // 9 EVEN_GALERA_MEMBERSHIP
    spec['corosync'] = { transport: 'udpu' }; // 10 UDPU_WITH_CRYPTO (crypto defaults to aes256)

    const { spec: accepted, problems } = validateClusterSpec(spec);
    expect(accepted).toBeUndefined();
    expect(problems.map((p) => [p.code, p.path]).sort()).toEqual(
      [
        ['BAD_NAME', 'metadata.name'],
        ['BAD_ADDRESS', 'topology.nodes[2].internalAddress'],
        ['DUPLICATE_NODE_ADDRESS', 'topology.nodes[1].managementAddress'],
        ['VIP_OUT_OF_SUBNET', 'services[0].vip'],
        ['VIP_OUT_OF_SUBNET', 'services[1].vip'],
        ['UNKNOWN_SERVICE', 'services[3].name'],
        ['SECRET_INLINE', 'rabbitmq.erlangCookie'],
        ['STONITH_DISABLED', 'pacemaker.properties.stonithEnabled'],
        ['EVEN_GALERA_MEMBERSHIP', 'galera.arbitrator'],
        ['UDPU_WITH_CRYPTO', 'corosync.crypto'],
      ].sort(),
    );
    expect(problems.every((p) => p.severity === 'error')).toBe(true);
  });

  it('still runs the cross-field rules when a field name is misspelt', () => {
    const spec = validSpec();
    at(spec, 'galera').clusterNmae = 'x';
    at(spec, 'topology', 'nodes', 2).name = 'controller-1';
    expect(problemsOf(spec).map((p) => [p.code, p.path])).toEqual([
      ['UNKNOWN_FIELD', 'galera.clusterNmae'],
      ['DUPLICATE_NODE_NAME', 'topology.nodes[2].name'],
      ['UNKNOWN_NODE', 'pacemaker.fencing.devices[2].nodes[0]'],
    ]);
  });

  describe('field rules', () => {
    it.each(['controller/1', '..', 'ctl 1', 'ctl$1', 'ctl;rm', 'ctl`id`', 'Controller1', '1ctl', 'a'.repeat(64)])(
      'rejects the name %j that could reach a shell or a path',
      (name) => {
        const spec = validSpec();
        at(spec, 'topology', 'nodes', 0).name = name;
        expectProblem(
          spec,
          'BAD_NAME',
          'topology.nodes[0].name',
          /^topology\.nodes\[0\]\.name is ".*, which must start with a lower-case letter and hold only a-z, 0-9 and "-" \(at most 63\)\.$/s,
        );
      },
    );

    it('rejects a malformed address', () => {
      const spec = validSpec();
      at(spec, 'topology', 'nodes', 1).managementAddress = '192.168.24';
      expectProblem(
        spec,
        'BAD_ADDRESS',
        'topology.nodes[1].managementAddress',
        'topology.nodes[1].managementAddress is "192.168.24", which is not a valid IPv4 or IPv6 address.',
      );
    });

    it('rejects a malformed CIDR', () => {
      const spec = validSpec();
      at(spec, 'topology', 'networks', 'public').cidr = '10.20.0.0/40';
      expectProblem(
        spec,
        'BAD_CIDR',
        'topology.networks.public.cidr',
        'topology.networks.public.cidr is "10.20.0.0/40", which is not a CIDR such as 10.0.0.0/24.',
      );
    });

    it('rejects an inline Erlang cookie', () => {
      const spec = validSpec();
      at(spec, 'rabbitmq').erlangCookie = 'SECRETCOOKIE';
      expectProblem(
        spec,
        'SECRET_INLINE',
        'rabbitmq.erlangCookie',
        'rabbitmq.erlangCookie holds a literal secret; store it on the node and write { secretRef: "<name>" } instead.',
      );
    });

    it('rejects a literal password anywhere, e.g. in fencing device parameters', () => {
      const spec = validSpec();
      at(spec, 'pacemaker', 'fencing', 'devices', 1, 'params').password = 'calvin';
      const problems = problemsOf(spec);
      expect(problems).toEqual([
        expect.objectContaining({ code: 'SECRET_INLINE', path: 'pacemaker.fencing.devices[1].params.password' }),
      ]);
      expect(JSON.stringify(problems)).not.toContain('calvin');
    });

    it('names an unknown field and where it is', () => {
      const spec = validSpec();
      at(spec, 'galera').wsrepProviderOptions = 'gcache.size=1G';
      expectProblem(
        spec,
        'UNKNOWN_FIELD',
        'galera.wsrepProviderOptions',
        'galera.wsrepProviderOptions is not a field of the spec; remove it or check its spelling (docs/spec.md).',
      );
    });

    it('says which required field is missing', () => {
      const spec = validSpec();
      delete spec['rabbitmq'];
      expectProblem(spec, 'REQUIRED', 'rabbitmq', 'rabbitmq is required.');
    });

    it('says what a document that is not an object should be', () => {
    expect(problemsOf([])).toEqual([
      { path: '', code: 'INVALID_TYPE', message: 'The spec must be an object, not a list.', severity: 'error' },
    ]);
  });

  it('survives a deeply nested document', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 20000; i++) deep = { password: deep };
    expect(problemsOf(deep).map((p) => p.code)).toContain('UNKNOWN_FIELD');
  });

  it('says which type a field needs', () => {
      const spec = validSpec();
      at(spec, 'galera').port = '3306';
      expectProblem(spec, 'INVALID_TYPE', 'galera.port', 'galera.port must be a number, not "3306".');
    });

    it('lists the allowed values of an enumerated field', () => {
      const spec = validSpec();
      at(spec, 'rabbitmq').partitionHandling = 'pause_if_all_down';
      expectProblem(
        spec,
        'INVALID_VALUE',
        'rabbitmq.partitionHandling',
        'rabbitmq.partitionHandling is "pause_if_all_down"; use one of "pause_minority", "autoheal", "ignore".',
      );
    });

    it('rejects a number out of range', () => {
      const spec = validSpec();
      at(spec, 'galera').clustercheckPort = 70000;
      expectProblem(spec, 'OUT_OF_RANGE', 'galera.clustercheckPort', 'galera.clustercheckPort must be at most 65535.');
    });

    it('rejects a mirroring policy pattern that the resource agent would split into several arguments', () => {
    const spec = validSpec();
    at(spec, 'rabbitmq').haPolicyPattern = '^ha\\. .*';
    expectProblem(
      spec,
      'INVALID_FORMAT',
      'rabbitmq.haPolicyPattern',
      'rabbitmq.haPolicyPattern is "^ha\\\\. .*", which must be a regular expression without whitespace.',
    );
  });

  it('rejects a HAProxy binary path that climbs out of its directory', () => {
    const spec = validSpec();
    at(spec, 'pacemaker').haproxyResource = { kind: 'anything', binfile: '/usr/sbin/../../tmp/haproxy' };
    expectProblem(
      spec,
      'INVALID_FORMAT',
      'pacemaker.haproxyResource.binfile',
      'pacemaker.haproxyResource.binfile is "/usr/sbin/../../tmp/haproxy", which must be an absolute path such as /usr/sbin/haproxy.',
    );
  });

  it('rejects a health-check path that would inject HAProxy configuration', () => {
      const spec = validSpec();
      at(spec, 'services', 0).healthCheckPath = '/v3\n  server evil 6.6.6.6:80';
      expectProblem(spec, 'INVALID_FORMAT', 'services[0].healthCheckPath', /must be an absolute URL path without spaces/);
    });
  });

  describe('topology rules', () => {
    it('requires three nodes for ACTIVE_ACTIVE', () => {
      const spec = validSpec();
      (at(spec, 'topology').nodes as Json[]).pop();
      expectProblem(
        spec,
        'TOO_FEW_NODES',
        'topology.nodes',
        'ACTIVE_ACTIVE needs at least 3 nodes to survive the loss of one with quorum; the spec has 2.',
      );
    });

    it('requires two nodes for ACTIVE_PASSIVE', () => {
      const spec = validSpec();
      at(spec, 'topology').mode = 'ACTIVE_PASSIVE';
      at(spec, 'topology').nodes = [at(spec, 'topology', 'nodes', 0)];
      expectProblem(spec, 'TOO_FEW_NODES', 'topology.nodes', /ACTIVE_PASSIVE needs at least 2 nodes/);
    });

    it('rejects a duplicate node name', () => {
      const spec = validSpec();
      at(spec, 'topology', 'nodes', 2).name = 'controller-1';
      expectProblem(
        spec,
        'DUPLICATE_NODE_NAME',
        'topology.nodes[2].name',
        'Node name "controller-1" is already used by topology.nodes[0]; every node needs its own name.',
      );
    });

    it('rejects an address used by two nodes', () => {
      const spec = validSpec();
      at(spec, 'topology', 'nodes', 2).internalAddress = '172.16.2.11';
      expectProblem(
        spec,
        'DUPLICATE_NODE_ADDRESS',
        'topology.nodes[2].internalAddress',
        '172.16.2.11 is already the address of topology.nodes[0].internalAddress; each node needs its own addresses.',
      );
    });

    it('lets one node use the same address for management and internal traffic', () => {
      const spec = validSpec();
      at(spec, 'topology', 'nodes', 0).managementAddress = '172.16.2.11';
      expect(problemsOf(spec)).toEqual([]);
    });
  });

  describe('service rules', () => {
    it('rejects an unknown service and lists the known ones', () => {
      const spec = validSpec();
      (spec['services'] as Json[]).push({ name: 'trove-api', vip: '10.20.0.50' });
      expectProblem(spec, 'UNKNOWN_SERVICE', 'services[3].name', /^"trove-api" is not a known service; use one of aodh, cinder-api, /);
    });

    it('rejects a service enabled twice', () => {
      const spec = validSpec();
      (spec['services'] as Json[]).push({ name: 'keystone', vip: '10.20.0.50', port: 5001 });
      expectProblem(
        spec,
        'DUPLICATE_SERVICE',
        'services[3].name',
        'Service "keystone" is already enabled at services[0]; list each service once.',
      );
    });

    it('rejects two services on one VIP', () => {
      const spec = validSpec();
      at(spec, 'services', 1).vip = '10.20.0.10';
      expectProblem(
        spec,
        'DUPLICATE_VIP',
        'services[1].vip',
        'VIP 10.20.0.10 is already used by service keystone; give each its own VIP, or remove services[1].vip to use the shared public VIP.',
      );
    });

    it('rejects a VIP outside its network', () => {
      const spec = validSpec();
      at(spec, 'galera').vip = '10.20.0.100';
      expectProblem(
        spec,
        'VIP_OUT_OF_SUBNET',
        'galera.vip',
        'VIP 10.20.0.100 is outside the internal network 172.16.2.0/24; pick an address inside it or change the network.',
      );
    });

    it('rejects a VIP that is a node address', () => {
      const spec = validSpec();
      at(spec, 'services', 2).vip = '172.16.2.12';
      expectProblem(
        spec,
        'VIP_IS_NODE_ADDRESS',
        'services[2].vip',
        'VIP 172.16.2.12 is an address of node controller-2; a VIP must be a free address that can move between nodes.',
      );
    });

    it('rejects a service with neither its own nor a shared VIP', () => {
      const spec = validSpec();
      delete at(spec, 'services', 1).vip;
      expectProblem(
        spec,
        'SERVICE_WITHOUT_VIP',
        'services[1].vip',
        'Service nova-api has no VIP: set services[1].vip or a shared VIP at topology.networks.public.vip.',
      );
    });

    it('lets services share the network VIP on different ports', () => {
      const spec = validSpec();
      at(spec, 'topology', 'networks', 'public').vip = '10.20.0.5';
      delete at(spec, 'services', 0).vip;
      delete at(spec, 'services', 1).vip;
      expect(problemsOf(spec)).toEqual([]);
    });

    it('rejects two frontends on the same shared VIP and port', () => {
      const spec = validSpec();
      at(spec, 'topology', 'networks', 'public').vip = '10.20.0.5';
      delete at(spec, 'services', 0).vip;
      at(spec, 'services', 1).vip = undefined;
      at(spec, 'services', 1).port = 5000;
      at(spec, 'services', 1).backendPort = 8774;
      expectProblem(
        spec,
        'PORT_COLLISION',
        'services[1].port',
        'Service nova-api listens on 10.20.0.5:5000, already taken by service keystone; change the port or give it its own VIP.',
      );
    });

    it('rejects two listeners on the same port of every node', () => {
      const spec = validSpec();
      at(spec, 'services', 1).backendPort = 3306;
      expectProblem(
        spec,
        'PORT_COLLISION',
        'services[1].backendPort',
        'Service nova-api would listen on port 3306 of every node, already used by MariaDB/Galera; set a different backendPort.',
      );
    });
  });

  describe('galera rules', () => {
    it('rejects an even membership without an arbitrator until it is acknowledged', () => {
      const spec = validSpec();
      (at(spec, 'topology').nodes as Json[]).push({
        name: 'controller-4',
        managementAddress: '192.168.24.14',
        internalAddress: '172.16.2.14',
      });
      at(spec, 'pacemaker', 'fencing', 'devices', 0).nodes = ['controller-1', 'controller-4'];
      expectProblem(
        spec,
        'EVEN_GALERA_MEMBERSHIP',
        'galera',
        'Galera has 4 members, an even number that can split in half without quorum; add galera.arbitrator (garbd) or a node, or add EVEN_GALERA_MEMBERSHIP to acknowledgedWarnings (e.g. on the way from 3 to 5 nodes).',
      );
      expect(validateClusterSpec(spec).spec).toBeUndefined();

      (spec as Record<string, unknown>).acknowledgedWarnings = ['EVEN_GALERA_MEMBERSHIP'];
      const { spec: accepted, problems } = validateClusterSpec(spec);
      expect(accepted?.topology.nodes).toHaveLength(4);
      expect(problems).toEqual([expect.objectContaining({ code: 'EVEN_GALERA_MEMBERSHIP', severity: 'warning' })]);
    });

    it('accepts four nodes with an arbitrator', () => {
      const spec = validSpec();
      (at(spec, 'topology').nodes as Json[]).push({
        name: 'controller-4',
        managementAddress: '192.168.24.14',
        internalAddress: '172.16.2.14',
      });
      at(spec, 'pacemaker', 'fencing', 'devices', 0).nodes = ['controller-1', 'controller-4'];
      at(spec, 'galera').arbitrator = { address: '172.16.2.60' };
      expect(problemsOf(spec)).toEqual([]);
    });

    it('rejects an arbitrator on a cluster node', () => {
      const spec = validSpec();
      (at(spec, 'topology').nodes as Json[]).pop();
      at(spec, 'topology').mode = 'ACTIVE_PASSIVE';
      at(spec, 'pacemaker', 'fencing').devices = (at(spec, 'pacemaker', 'fencing').devices as Json[]).slice(0, 2);
      at(spec, 'galera').arbitrator = { address: '172.16.2.12' };
      expectProblem(
        spec,
        'ARBITRATOR_ON_NODE',
        'galera.arbitrator.address',
        'The arbitrator 172.16.2.12 is node controller-2, so losing that node loses two votes; run garbd on a separate host.',
      );
    });

    it('needs a database frontend on the public network to be acknowledged', () => {
      const spec = validSpec();
      at(spec, 'galera').network = 'public';
      at(spec, 'galera').vip = '10.20.0.100';
      expectProblem(
        spec,
        'GALERA_ON_PUBLIC_NETWORK',
        'galera.network',
        'The database frontend would listen on the public network, reachable by tenants and the internet; use network internal, or add GALERA_ON_PUBLIC_NETWORK to acknowledgedWarnings.',
      );
      spec['acknowledgedWarnings'] = ['GALERA_ON_PUBLIC_NETWORK'];
      expect(validateClusterSpec(spec).spec).toBeDefined();
    });

    it('requires an SST password for mariabackup', () => {
      const spec = validSpec();
      at(spec, 'galera').sstMethod = 'mariabackup';
      expectProblem(
        spec,
        'SST_PASSWORD_MISSING',
        'galera.sstPassword',
        'mariabackup SST needs a database user; set galera.sstPassword to { secretRef: "<name>" } or use sstMethod rsync.',
      );
    });
  });

  describe('pacemaker rules', () => {
    it('counts disabled STONITH as an error until it is acknowledged', () => {
      const spec = validSpec();
      at(spec, 'pacemaker').properties = { stonithEnabled: false };
      expectProblem(
        spec,
        'STONITH_DISABLED',
        'pacemaker.properties.stonithEnabled',
        /^STONITH is disabled: .* add STONITH_DISABLED to acknowledgedWarnings to accept the risk\.$/,
      );
      expect(validateClusterSpec(spec).problems[0].severity).toBe('error');
      expect(validateClusterSpec(spec).spec).toBeUndefined();
    });

    it('accepts disabled STONITH as a warning once acknowledged', () => {
      const spec = validSpec();
      at(spec, 'pacemaker').properties = { stonithEnabled: false };
      spec['acknowledgedWarnings'] = ['STONITH_DISABLED'];
      const result = validateClusterSpec(spec);
      expect(result.problems).toEqual([expect.objectContaining({ code: 'STONITH_DISABLED', severity: 'warning' })]);
      expect(result.spec?.pacemaker.properties.stonithEnabled).toBe(false);
    });

    it('requires fencing devices when STONITH is enabled', () => {
      const spec = validSpec();
      at(spec, 'pacemaker').fencing = { devices: [] };
      expectProblem(
        spec,
        'FENCING_DEVICES_MISSING',
        'pacemaker.fencing.devices',
        'STONITH is enabled but no fencing device is configured, so Pacemaker would start nothing; add pacemaker.fencing.devices.',
      );
    });

    it('requires every node to be fenceable', () => {
      const spec = validSpec();
      (at(spec, 'pacemaker', 'fencing').devices as Json[]).pop();
      expectProblem(
        spec,
        'NODE_NOT_FENCEABLE',
        'pacemaker.fencing.devices',
        "No fencing device can fence node controller-3, so its failure would block recovery; add it to a device's nodes.",
      );
    });

    it('needs no-quorum-policy ignore to be acknowledged', () => {
      const spec = validSpec();
      at(spec, 'pacemaker').properties = { noQuorumPolicy: 'ignore' };
      expectProblem(spec, 'NO_QUORUM_POLICY_IGNORE', 'pacemaker.properties.noQuorumPolicy', /add NO_QUORUM_POLICY_IGNORE to acknowledgedWarnings/);
      spec['acknowledgedWarnings'] = ['NO_QUORUM_POLICY_IGNORE'];
      expect(validateClusterSpec(spec).spec).toBeDefined();
    });

    it('rejects two fencing devices with one name', () => {
      const spec = validSpec();
      at(spec, 'pacemaker', 'fencing', 'devices', 1).name = 'ipmi-controller-1';
      expectProblem(
        spec,
        'DUPLICATE_FENCING_DEVICE',
        'pacemaker.fencing.devices[1].name',
        'Fencing device "ipmi-controller-1" is already defined at pacemaker.fencing.devices[0]; give each device its own name.',
      );
    });

    it('rejects a reference to a node that does not exist', () => {
      const spec = validSpec();
      at(spec, 'pacemaker').maintenance = { nodes: ['controller-9'] };
      expectProblem(
        spec,
        'UNKNOWN_NODE',
        'pacemaker.maintenance.nodes[0]',
        '"controller-9" is not a node of topology.nodes; use one of controller-1, controller-2, controller-3.',
      );
    });

    it('rejects a fence parameter value with a line break or shell syntax', () => {
      const message =
        'pacemaker.fencing.devices[0].params.username may contain only letters, digits and . _ : @ / + = , % -; whitespace, quotes and shell characters would reach a fence agent running as root.';
      for (const value of ['admin\naction=off', 'admin$(touch /tmp/x)', 'admin;reboot', "ad'min"]) {
        const spec = validSpec();
        at(spec, 'pacemaker', 'fencing', 'devices', 0, 'params').username = value;
        expectProblem(spec, 'UNSAFE_VALUE', 'pacemaker.fencing.devices[0].params.username', message);
      }
    });

    it('refuses a quote in a health-check path (HAProxy would read a quoted string)', () => {
      const spec = validSpec();
      (at(spec, 'services') as unknown as Json[])[0] = { name: 'keystone', vip: (at(spec, 'services', 0) as Json).vip, healthCheckPath: "/v3'" };
      expect(problemsOf(spec)).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'services[0].healthCheckPath', severity: 'error' })]));
    });

    it('refuses more than 32 nodes', () => {
      const spec = validSpec();
      const nodes = Array.from({ length: 33 }, (_, i) => ({ name: `controller-${i + 1}`, managementAddress: `10.99.1.${i + 1}`, internalAddress: `10.99.2.${i + 1}` }));
      at(spec, 'topology').nodes = nodes;
      expect(problemsOf(spec)).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'topology.nodes', severity: 'error' })]));
    });

    it('refuses fence parameters that run commands or choose files', () => {
      for (const key of ['passwd_script', 'ipmitool_path', 'debug_file', 'ssh_options', 'pcmk_host_list']) {
        const spec = validSpec();
        at(spec, 'pacemaker', 'fencing', 'devices', 0, 'params')[key] = 'x';
        expectProblem(
          spec,
          'FENCE_PARAM_NOT_ALLOWED',
          `pacemaker.fencing.devices[0].params.${key}`,
          `Fence parameter "${key}" is not accepted: only parameters that say how to reach and log in to the device are (e.g. ip, ipport, username, password, lanplus, pcmk_delay_max); options that run commands or choose files (such as *_script, *_path, debug_file) are never passed to a fence agent.`,
        );
      }
    });

    it('accepts a pcmk_host_map of node:plug pairs and refuses anything else in it', () => {
      const ok = validSpec();
      at(ok, 'pacemaker', 'fencing', 'devices', 0, 'params').pcmk_host_map = 'controller-1:1;controller-2:2';
      expect(problemsOf(ok).filter((p) => p.severity === 'error')).toEqual([]);
      const bad = validSpec();
      at(bad, 'pacemaker', 'fencing', 'devices', 0, 'params').pcmk_host_map = 'controller-1:1;$(reboot)';
      expectProblem(
        bad,
        'UNSAFE_VALUE',
        'pacemaker.fencing.devices[0].params.pcmk_host_map',
        'pacemaker.fencing.devices[0].params.pcmk_host_map must be node:plug pairs separated by ";" (e.g. "controller-1:1;controller-2:2").',
      );
    });

    it('treats cloud fence credentials (secret_key, apikey) as secrets', () => {
      const spec = validSpec();
      at(spec, 'pacemaker', 'fencing', 'devices', 0, 'params').secret_key = 'AKIA-literal';
      at(spec, 'pacemaker', 'fencing', 'devices', 1, 'params').apikey = 'literal';
      const problems = problemsOf(spec);
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ code: 'SECRET_INLINE', path: 'pacemaker.fencing.devices[0].params.secret_key' }),
          expect.objectContaining({ code: 'SECRET_INLINE', path: 'pacemaker.fencing.devices[1].params.apikey' }),
        ]),
      );
      expect(JSON.stringify(problems)).not.toContain('AKIA-literal');
    });

    it('rejects two fencing levels with the same index for a node', () => {
      const spec = validSpec();
      at(spec, 'pacemaker', 'fencing').levels = [
        { node: 'controller-1', index: 1, devices: ['ipmi-controller-1'] },
        { node: 'controller-1', index: 1, devices: ['ipmi-controller-1'] },
      ];
      expectProblem(
        spec,
        'DUPLICATE_FENCING_LEVEL',
        'pacemaker.fencing.levels[1].index',
        'Node controller-1 already has fencing level 1 at pacemaker.fencing.levels[0]; use another index.',
      );
    });

    it('rejects a fencing level naming an undefined device', () => {
      const spec = validSpec();
      at(spec, 'pacemaker', 'fencing').levels = [{ node: 'controller-1', index: 1, devices: ['pdu-a'] }];
      expectProblem(
        spec,
        'UNKNOWN_FENCING_DEVICE',
        'pacemaker.fencing.levels[0].devices[0]',
        '"pdu-a" is not a device in pacemaker.fencing.devices; define it or fix the name.',
      );
    });

    it('rejects a fencing level whose device cannot fence that node', () => {
      const spec = validSpec();
      at(spec, 'pacemaker', 'fencing').levels = [{ node: 'controller-1', index: 1, devices: ['ipmi-controller-2'] }];
      expectProblem(
        spec,
        'FENCING_DEVICE_CANNOT_FENCE',
        'pacemaker.fencing.levels[0].devices[0]',
        'Device "ipmi-controller-2" does not list node controller-1 in its nodes, so this level can never fence it; add the node to the device.',
      );
    });

    it('warns about acknowledging a code that is not an acknowledgeable warning', () => {
      const spec = validSpec();
      spec['acknowledgedWarnings'] = ['DUPLICATE_VIP'];
      const result = validateClusterSpec(spec);
      expect(result.problems).toEqual([
        {
          path: 'acknowledgedWarnings[0]',
          code: 'UNKNOWN_ACKNOWLEDGEMENT',
          message: '"DUPLICATE_VIP" is not a warning that can be acknowledged; use one of STONITH_DISABLED, NO_QUORUM_POLICY_IGNORE, GALERA_ON_PUBLIC_NETWORK, EVEN_GALERA_MEMBERSHIP.',
          severity: 'warning',
        },
      ]);
      expect(result.spec).toBeDefined();
    });
  });

  describe('corosync rules', () => {
    it('rejects crypto on the udpu transport', () => {
      const spec = validSpec();
      spec['corosync'] = { transport: 'udpu', crypto: { cipher: 'aes256', hash: 'sha256' } };
      expectProblem(
        spec,
        'UDPU_WITH_CRYPTO',
        'corosync.crypto',
        'Corosync cannot encrypt the udpu transport; use transport knet, or set crypto cipher and hash to "none".',
      );
    });
  });
});
