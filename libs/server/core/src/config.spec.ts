import { ConfigError, loadServerConfig } from './config';

describe(loadServerConfig.name, () => {
  it('fills defaults and tells agents the control plane NATS URL unless told otherwise', () => {
    const c = loadServerConfig({ COMMAND_SIGNING_KEY_FILE: '/k.pem', NATS_URL: 'nats://10.0.0.1:4222' });
    expect(c.HTTP_PORT).toBe(4000);
    expect(c.REDIS_PREFIX).toBe('triad:');
    expect(c.NATS_AGENT_SERVERS).toEqual(['nats://10.0.0.1:4222']);
    expect(loadServerConfig({ COMMAND_SIGNING_KEY_FILE: '/k.pem', NATS_AGENT_SERVERS: 'nats://a:4222, nats://b:4222' }).NATS_AGENT_SERVERS).toEqual(['nats://a:4222', 'nats://b:4222']);
  });

  it('reads GRPC_INSECURE as a flag, off unless set', () => {
    expect(loadServerConfig({ COMMAND_SIGNING_KEY_FILE: '/k.pem' }).GRPC_INSECURE).toBe(false);
    expect(loadServerConfig({ COMMAND_SIGNING_KEY_FILE: '/k.pem', GRPC_INSECURE: 'true' }).GRPC_INSECURE).toBe(true);
    expect(() => loadServerConfig({ COMMAND_SIGNING_KEY_FILE: '/k.pem', GRPC_INSECURE: 'yes' })).toThrow(/GRPC_INSECURE: must be true or false/);
  });

  it('names every bad key at once', () => {
    expect(() => loadServerConfig({ HTTP_PORT: 'http', HEARTBEAT_INTERVAL_MS: '-5' })).toThrow(ConfigError);
    try {
      loadServerConfig({ HTTP_PORT: 'http', HEARTBEAT_INTERVAL_MS: '-5' });
    } catch (e) {
      expect((e as Error).message).toMatch(/COMMAND_SIGNING_KEY_FILE/);
      expect((e as Error).message).toMatch(/HTTP_PORT/);
      expect((e as Error).message).toMatch(/HEARTBEAT_INTERVAL_MS/);
    }
  });
});
