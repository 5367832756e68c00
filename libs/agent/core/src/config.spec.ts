import { renderNode } from '@triad/render';
import { labClusterSpec, labLoopbackAddresses } from '@triad/testing';
import { AgentConfigError, loadAgentConfig } from './config';
import { nodeHostProfile } from './revision-applier';

describe('agent configuration', () => {
  it('fills defaults and puts the managed master socket in the state directory', () => {
    const config = loadAgentConfig({ TRIAD_CONTROL_PLANE: 'cp.example.net:4001', TRIAD_STATE_DIR: '/srv/triad', TRIAD_NODE_NAME: 'controller-1' });
    expect(config).toMatchObject({
      controlPlane: 'cp.example.net:4001',
      stateDir: '/srv/triad',
      nodeName: 'controller-1',
      enrollmentToken: undefined,
      haproxy: { mode: 'managed', bin: '/usr/sbin/haproxy', masterSocket: '/srv/triad/haproxy-master.sock', statsSocket: '/run/haproxy/admin.sock' },
    });
  });

  it('leaves galera and rabbitmq to Pacemaker by default and needs the clustercheck address when galera is configured', () => {
    const base = { TRIAD_CONTROL_PLANE: 'cp.example.net:4001', TRIAD_NODE_NAME: 'controller-1', TRIAD_COMPONENTS: 'galera,rabbitmq' };
    expect(() => loadAgentConfig(base)).toThrow('TRIAD_GALERA_CLUSTERCHECK_ADDRESS: required when TRIAD_COMPONENTS includes galera');
    expect(loadAgentConfig({ ...base, TRIAD_GALERA_CLUSTERCHECK_ADDRESS: '10.41.0.1' })).toMatchObject({
      components: ['galera', 'rabbitmq'],
      galera: { mode: 'pacemaker', clustercheck: { host: '10.41.0.1', port: 9200 } },
      rabbitmq: { mode: 'pacemaker', home: '/var/lib/rabbitmq' },
    });
  });

  it('starts the cluster stack with systemctl by default, or with the host\'s own argv lists', () => {
    const base = { TRIAD_CONTROL_PLANE: 'cp.example.net:4001', TRIAD_NODE_NAME: 'controller-1' };
    expect(loadAgentConfig(base).clusterStack).toEqual({ start: [['systemctl', 'start', 'corosync', 'pacemaker']], stop: [['systemctl', 'stop', 'pacemaker', 'corosync']] });
    const lab = loadAgentConfig({ ...base, TRIAD_CLUSTER_STACK_START: '[["/opt/stack.sh","start"]]', TRIAD_CLUSTER_STACK_STOP: '[["/opt/stack.sh","stop"]]' });
    expect(lab.clusterStack).toEqual({ start: [['/opt/stack.sh', 'start']], stop: [['/opt/stack.sh', 'stop']] });
    expect(() => loadAgentConfig({ ...base, TRIAD_CLUSTER_STACK_START: 'systemctl start corosync' })).toThrow(/TRIAD_CLUSTER_STACK_START: must be a JSON array of argv arrays/);
    expect(() => loadAgentConfig({ ...base, TRIAD_CLUSTER_STACK_STOP: '[[]]' })).toThrow(/TRIAD_CLUSTER_STACK_STOP/);
  });

  it('renders with the host profile it runs with: external HAProxy gets its master socket in the CIB, maxconn and syslog from the env', () => {
    const base = { TRIAD_CONTROL_PLANE: 'cp.example.net:4001', TRIAD_NODE_NAME: 'controller-1' };
    const external = nodeHostProfile(
      loadAgentConfig({ ...base, TRIAD_HAPROXY_MODE: 'external', TRIAD_HAPROXY_MASTER_SOCKET: '/run/haproxy/master.sock', TRIAD_HAPROXY_MAXCONN: '4096', TRIAD_HAPROXY_LOG_TARGET: 'none' }).haproxy,
    ).haproxy;
    expect(external).toMatchObject({ masterSocket: '/run/haproxy/master.sock', maxconn: 4096, logTarget: undefined, configPath: '/etc/haproxy/haproxy.cfg' });
    // Managed: the agent's own haproxy, not Pacemaker's, uses the master socket; defaults otherwise.
    const managed = nodeHostProfile(loadAgentConfig(base).haproxy).haproxy;
    expect(managed.masterSocket).toBeUndefined();
    expect(managed.maxconn).toBeUndefined();
    expect(managed.logTarget).toBe('/dev/log');
  });

  it('gives the CIB\'s galera resource the server binary the host asks for (labs: mariadbd, not mysqld_safe), the agent\'s default otherwise', () => {
    const base = { TRIAD_CONTROL_PLANE: 'cp.example.net:4001', TRIAD_NODE_NAME: 'controller-1' };
    const lab = loadAgentConfig({ ...base, TRIAD_GALERA_SERVER_BINARY: '/usr/sbin/mariadbd' });
    const spec = labClusterSpec({ addresses: labLoopbackAddresses(3) });
    const cib = (config: typeof lab) => renderNode(spec, 'controller-1', nodeHostProfile(config.haproxy, config.galera)).find((a) => a.name === 'cib.xml')?.content ?? '';
    expect(cib(lab)).toContain('name="binary" value="/usr/sbin/mariadbd"');
    expect(cib(loadAgentConfig(base))).not.toContain('name="binary"');
    expect(() => loadAgentConfig({ ...base, TRIAD_GALERA_SERVER_BINARY: 'mariadbd' })).toThrow(/TRIAD_GALERA_SERVER_BINARY/);
  });

  it('lists every bad key at once', () => {
    let error: unknown;
    try {
      loadAgentConfig({ TRIAD_CONTROL_PLANE: 'https://cp', TRIAD_HAPROXY_MODE: 'sometimes', TRIAD_NODE_NAME: 'Controller_1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AgentConfigError);
    expect((error as Error).message).toMatch(/TRIAD_CONTROL_PLANE: must be host:port/);
    expect((error as Error).message).toMatch(/TRIAD_HAPROXY_MODE/);
    expect((error as Error).message).toMatch(/TRIAD_NODE_NAME: must be a lower-case host name/);
  });

  it('talks TLS to the control plane unless told TRIAD_GRPC_INSECURE, and refuses both at once', () => {
    const base = { TRIAD_CONTROL_PLANE: 'cp.example.net:4001', TRIAD_NODE_NAME: 'controller-1' };
    expect(loadAgentConfig(base)).toMatchObject({ grpcInsecure: false, grpcTlsCaFile: undefined });
    expect(loadAgentConfig({ ...base, TRIAD_GRPC_TLS_CA_FILE: '/etc/triad/ca.pem' })).toMatchObject({ grpcInsecure: false, grpcTlsCaFile: '/etc/triad/ca.pem' });
    expect(loadAgentConfig({ ...base, TRIAD_GRPC_INSECURE: 'true' }).grpcInsecure).toBe(true);
    expect(() => loadAgentConfig({ ...base, TRIAD_GRPC_INSECURE: 'yes' })).toThrow(/TRIAD_GRPC_INSECURE: must be true or false/);
    expect(() => loadAgentConfig({ ...base, TRIAD_GRPC_INSECURE: '1', TRIAD_GRPC_TLS_CA_FILE: '/etc/triad/ca.pem' })).toThrow(/TRIAD_GRPC_INSECURE: contradicts TRIAD_GRPC_TLS_CA_FILE/);
  });

  it('never puts the enrollment token in an error message', () => {
    expect(() => loadAgentConfig({ TRIAD_ENROLLMENT_TOKEN: 'secret-token-value' })).toThrow(/TRIAD_CONTROL_PLANE/);
    expect(() => loadAgentConfig({ TRIAD_ENROLLMENT_TOKEN: 'secret-token-value' })).not.toThrow(/secret-token-value/);
  });
});
