import { createLogger } from '@triad/logging';
import { startNatsServer, waitFor, type TestNatsServer } from '@triad/testing';
import { NatsLink } from './nats-link';

describe(NatsLink.name, () => {
  let nats: TestNatsServer;
  const logger = createLogger('test', { level: 'silent' });

  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true });
  });

  afterAll(async () => {
    await nats?.stop();
  });

  it('starts while NATS is down, connects when it comes up, and runs its on-connect hooks after every reconnect', async () => {
    await nats.down();
    const link = new NatsLink({ servers: nats.url, name: 'link-test' }, logger);
    let hooks = 0;
    link.onConnected(() => void hooks++);
    const started = link.start();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(link.connected).toBe(false);
    expect(() => link.connection()).toThrow('NATS is not connected');

    await nats.up();
    await started;
    expect(link.connected).toBe(true);
    expect(hooks).toBe(1);

    await nats.restart();
    await waitFor('reconnected', () => link.connected && hooks === 2, 15_000);
    expect(await link.close()).toBe(true);
  }, 40_000);
});
