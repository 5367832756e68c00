import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFile, sleep } from '@triad/agent-core';
import { createLogger } from '@triad/logging';
import { GaleraDriver } from './galera.driver';

describe('GaleraDriver SST credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'triad-sst-auth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs wsrep_sst_auth from the password file, mode 600, readable by MariaDB whatever the password holds, never logging it', async () => {
    const password = 'p#ss w\\ord"x';
    writeFileSync(join(dir, 'password'), `${password}\n`, { mode: 0o600 });
    const log = join(dir, 'agent.log');
    const authFile = join(dir, 'galera-sst-auth.cnf');
    const driver = new GaleraDriver({
      mode: 'pacemaker',
      configFile: join(dir, 'galera.cnf'),
      logger: createLogger('galera-sst-test', { destination: log }),
      sstAuth: { user: 'triad_sst', passwordFile: join(dir, 'password'), authFile },
    });
    await driver.start();
    await driver.stop();

    expect(statSync(authFile).mode & 0o777).toBe(0o600);
    // MariaDB's own option-file reader gets the password back intact (# and spaces would cut an unquoted value).
    const r = await runFile('/usr/bin/my_print_defaults', [`--defaults-file=${authFile}`, 'galera']);
    expect(r.stdout.trim()).toBe(`--wsrep_sst_auth=triad_sst:${password}`);
    await sleep(200); // pino writes asynchronously
    expect(readFileSync(log, 'utf8')).toContain('installed the SST credentials');
    expect(readFileSync(log, 'utf8')).not.toContain('ss w');
  });
});
