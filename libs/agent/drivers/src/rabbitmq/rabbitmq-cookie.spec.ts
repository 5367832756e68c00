import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@triad/logging';
import { RabbitmqDriver } from './rabbitmq.driver';

const logger = createLogger('rabbitmq-cookie-test', { level: 'silent' });

describe('RabbitmqDriver Erlang cookie', () => {
  const dir = mkdtempSync(join(tmpdir(), 'triad-cookie-'));
  const home = join(dir, 'home');
  mkdirSync(home);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const driver = (cookieFile: string) =>
    new RabbitmqDriver({
      mode: 'pacemaker',
      node: { binDir: '/usr/lib/rabbitmq/bin', erlangNodeName: 'rabbit@controller-1', pidFile: join(dir, 'rabbit.pid'), env: { HOME: home } },
      configFile: join(dir, 'rabbitmq.conf'),
      envConfFile: join(dir, 'rabbitmq-env.conf'),
      definitionsFile: join(dir, 'definitions.json'),
      cookieFile,
      logger,
    });

  it('installs the cookie in HOME, mode 400, owned like HOME, and replaces a different one', async () => {
    chownSync(home, 12345, 12345);
    writeFileSync(join(dir, 'cookie'), 'FIRSTCOOKIE\n');
    await driver(join(dir, 'cookie')).start();
    const cookie = join(home, '.erlang.cookie');
    expect(readFileSync(cookie, 'utf8')).toBe('FIRSTCOOKIE');
    expect(statSync(cookie)).toMatchObject({ uid: 12345, gid: 12345 });
    expect(statSync(cookie).mode & 0o777).toBe(0o400);

    writeFileSync(join(dir, 'cookie'), 'SECONDCOOKIE');
    await driver(join(dir, 'cookie')).start();
    expect(readFileSync(cookie, 'utf8')).toBe('SECONDCOOKIE');
  });

  it('refuses a cookie Erlang would not take, without echoing it', async () => {
    writeFileSync(join(dir, 'bad'), 'two words');
    const err = await driver(join(dir, 'bad'))
      .start()
      .catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('must be letters, digits and _ only');
    expect((err as Error).message).not.toContain('two words');
  });
});
