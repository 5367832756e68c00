import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmtCreds } from '@nats-io/jwt';
import { fromSeed } from '@nats-io/nkeys';
import { createLogger } from '@triad/logging';
import { COMMAND_STREAM } from '@triad/protocol';
import { startNatsServer, waitFor, type NatsCreds, type TestNatsServer } from '@triad/testing';
import { commandStreamConfig, ensureCommandStream } from './command-stream';
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

  it('connects with the NATS_CREDS_FILE credentials to an operator-mode NATS and refuses to use a server that rejects them', async () => {
    const secured = await startNatsServer({ jetstream: true, operatorMode: true });
    const dir = mkdtempSync(join(tmpdir(), 'triad-creds-'));
    try {
      const creds = secured.controlPlaneCreds as NatsCreds;
      const credsFile = join(dir, 'control-plane.creds');
      writeFileSync(credsFile, fmtCreds(creds.jwt, fromSeed(new TextEncoder().encode(creds.seed))));
      const link = new NatsLink({ servers: secured.url, credsFile, name: 'creds-test' }, logger);
      await link.start();
      await ensureCommandStream(await link.jetstreamManager(), commandStreamConfig());
      expect((await (await link.jetstreamManager()).streams.info(COMMAND_STREAM)).config.subjects).toEqual(['cmd.>']);
      await link.close();

      const anonymous = new NatsLink({ servers: secured.url, name: 'no-creds' }, logger);
      void anonymous.start().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(anonymous.connected).toBe(false);
      await anonymous.close();
    } finally {
      await secured.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
