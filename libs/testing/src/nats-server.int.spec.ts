import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, jwtAuthenticator } from '@nats-io/transport-node';
import { startNatsServer } from './nats-server';
import { waitFor } from './processes';

jest.setTimeout(60_000);

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startNatsServer', () => {
  it('in operator mode refuses anonymous clients and accepts the control-plane credentials', async () => {
    const nats = await startNatsServer({ jetstream: true, operatorMode: true });
    try {
      await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/authorization/i);
      const creds = nats.controlPlaneCreds as { jwt: string; seed: string };
      const nc = await connect({ servers: nats.url, authenticator: jwtAuthenticator(creds.jwt, new TextEncoder().encode(creds.seed)) });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'S', subjects: ['s.>'] });
      expect(nats.accountSigningSeed).toMatch(/^SA/);
      expect(nats.accountPublicKey).toMatch(/^A/);
      await nc.close();
    } finally {
      await nats.stop();
    }
  });

  it('restarts on the same port with the same store: clients reconnect, streams and durable consumers survive', async () => {
    const nats = await startNatsServer({ jetstream: true });
    const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'R', subjects: ['r.>'] });
      await jsm.consumers.add('R', { durable_name: 'keep', filter_subject: 'r.a', ack_policy: AckPolicy.Explicit });
      await jetstream(nc).publish('r.a', 'before restart');

      await nats.restart();

      const info = await waitFor('consumer after restart', () => jsm.consumers.info('R', 'keep'), 15_000, 200);
      expect(info.num_pending).toBe(1);
      const msg = await (await jetstream(nc).consumers.get('R', 'keep')).next({ expires: 2_000 });
      expect(msg?.string()).toBe('before restart');
    } finally {
      await nc.close();
      await nats.stop();
    }
  });

  it('leaves no nats-server running after stop', async () => {
    const nats = await startNatsServer({ jetstream: true });
    const pid = nats.pid as number;
    expect(isRunning(pid)).toBe(true);
    await nats.stop();
    expect(isRunning(pid)).toBe(false);
    await expect(connect({ servers: nats.url, reconnect: false, timeout: 1_000 })).rejects.toThrow();
  });
});
