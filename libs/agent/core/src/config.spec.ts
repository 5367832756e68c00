import { AgentConfigError, loadAgentConfig } from './config';

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

  it('never puts the enrollment token in an error message', () => {
    expect(() => loadAgentConfig({ TRIAD_ENROLLMENT_TOKEN: 'secret-token-value' })).toThrow(/TRIAD_CONTROL_PLANE/);
    expect(() => loadAgentConfig({ TRIAD_ENROLLMENT_TOKEN: 'secret-token-value' })).not.toThrow(/secret-token-value/);
  });
});
