import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyArtifact, DriverError } from '@triad/agent-core';
import { createLogger } from '@triad/logging';
import { haproxyHealthDetailSchema } from '@triad/protocol';
import { freePort, httpGetText, waitFor } from '@triad/testing';
import { haproxyCli, parseShowProc } from './haproxy-cli';
import { HaproxyDriver } from './haproxy.driver';

const logger = createLogger('haproxy-driver-test', { level: 'silent' });

/** A backend that answers every request with its own name. */
async function startBackend(name: string): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  const server = createServer((_req, res) => res.end(name));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, server };
}

function haproxyConfig(opts: { statsSocket: string; frontendPort: number; backendPort: number; bind?: string; extra?: string }): string {
  return [
    'global',
    `  stats socket ${opts.statsSocket} mode 600 level admin expose-fd listeners`,
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
    'frontend api',
    `  bind ${opts.bind ?? '127.0.0.1'}:${opts.frontendPort}`,
    '  default_backend app',
    'backend app',
    `  server s1 127.0.0.1:${opts.backendPort}`,
    opts.extra ?? '',
    '',
  ].join('\n');
}

jest.setTimeout(60_000);

describe(HaproxyDriver.name, () => {
  let dir: string;
  let driver: HaproxyDriver;
  let cfg: string;
  let statsSocket: string;
  const backends: Server[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'triad-hap-'));
    cfg = join(dir, 'haproxy.cfg');
    statsSocket = join(dir, 'stats.sock');
    driver = new HaproxyDriver({
      mode: 'managed',
      bin: '/usr/sbin/haproxy',
      configFile: cfg,
      masterSocket: join(dir, 'master.sock'),
      statsSocket,
      logger,
      checkTimeoutMs: 6_000,
    });
  });

  afterEach(async () => {
    await driver.stop();
    for (const b of backends.splice(0)) b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a valid configuration: haproxy starts and a request reaches the backend', async () => {
    const backend = await startBackend('backend-one');
    backends.push(backend.server);
    const frontendPort = await freePort();

    await applyArtifact(driver, haproxyConfig({ statsSocket, frontendPort, backendPort: backend.port }), logger);

    expect(await httpGetText(frontendPort)).toBe('200 backend-one');
    const health = await driver.probe();
    expect(health.state).toBe('COMPONENT_OK');
    // The detail is what the control plane parses (the contract in @triad/protocol).
    expect(haproxyHealthDetailSchema.parse(JSON.parse(health.detailJson ?? '{}')).frontends).toEqual([{ name: 'api', status: 'OPEN' }]);
  });

  it('refuses a configuration haproxy rejects with its own message, keeping the live file and serving', async () => {
    const backend = await startBackend('backend-one');
    backends.push(backend.server);
    const frontendPort = await freePort();
    const good = haproxyConfig({ statsSocket, frontendPort, backendPort: backend.port });
    await applyArtifact(driver, good, logger);

    const bad = haproxyConfig({ statsSocket, frontendPort, backendPort: backend.port, extra: 'backend broken\n  balance no-such-algorithm' });
    const failure = await applyArtifact(driver, bad, logger).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(DriverError);
    expect((failure as DriverError).step).toBe('validate');
    expect((failure as DriverError).message).toMatch(/haproxy rejected the configuration: .*\[ALERT\].*balance only supports/);
    expect(readFileSync(cfg, 'utf8')).toBe(good);
    expect(existsSync(`${cfg}.staged`)).toBe(false);
    expect(await httpGetText(frontendPort)).toBe('200 backend-one');
  });

  it('keeps serving across reloads: no request fails while new configurations are applied', async () => {
    const one = await startBackend('backend-one');
    const two = await startBackend('backend-two');
    backends.push(one.server, two.server);
    const frontendPort = await freePort();
    await applyArtifact(driver, haproxyConfig({ statsSocket, frontendPort, backendPort: one.port }), logger);

    let stop = false;
    const answers: string[] = [];
    const failures: string[] = [];
    const load = (async () => {
      while (!stop) {
        try {
          answers.push(await httpGetText(frontendPort));
        } catch (e) {
          failures.push(String(e));
        }
      }
    })();
    for (const port of [two.port, one.port, two.port]) {
      await applyArtifact(driver, haproxyConfig({ statsSocket, frontendPort, backendPort: port }), logger);
    }
    stop = true;
    await load;

    expect(failures).toEqual([]);
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.every((a) => a === '200 backend-one' || a === '200 backend-two')).toBe(true);
    expect(answers.at(-1)).toBe('200 backend-two');
  });

  it('rolls back to the previous file when the new worker cannot start (address not on this host)', async () => {
    const backend = await startBackend('backend-one');
    backends.push(backend.server);
    const frontendPort = await freePort();
    const good = haproxyConfig({ statsSocket, frontendPort, backendPort: backend.port });
    await applyArtifact(driver, good, logger);

    // Valid for `haproxy -c`, which does not bind; the real reload cannot bind 192.0.2.1 (TEST-NET-1).
    const unbindable = haproxyConfig({ statsSocket, frontendPort, backendPort: backend.port, extra: `frontend extra\n  bind 192.0.2.1:${frontendPort}` });
    const failure = await applyArtifact(driver, unbindable, logger).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(DriverError);
    expect((failure as DriverError).message).toMatch(/could not load the new configuration.*cannot bind socket.*previous configuration was restored/);
    expect(readFileSync(cfg, 'utf8')).toBe(good);
    expect(await httpGetText(frontendPort)).toBe('200 backend-one');
    expect((await driver.probe()).state).toBe('COMPONENT_OK');
  });

  it('rolls back when a reloaded worker does not open every frontend of the new configuration', async () => {
    const backend = await startBackend('backend-one');
    backends.push(backend.server);
    const frontendPort = await freePort();
    const good = haproxyConfig({ statsSocket, frontendPort, backendPort: backend.port });
    await applyArtifact(driver, good, logger);

    // A disabled frontend loads fine but never opens: the post-reload check must catch it.
    const disabled = haproxyConfig({ statsSocket, frontendPort, backendPort: backend.port, extra: `frontend dark\n  disabled\n  bind 127.0.0.1:${await freePort()}` });
    const failure = await applyArtifact(driver, disabled, logger).catch((e: unknown) => e);

    expect((failure as DriverError).step).toBe('check');
    expect((failure as DriverError).message).toMatch(/frontends not open: dark; the previous configuration was restored/);
    expect(readFileSync(cfg, 'utf8')).toBe(good);
    expect(readFileSync(`${cfg}.previous`, 'utf8')).toBe(good);
    expect(await httpGetText(frontendPort)).toBe('200 backend-one');
  });

  it('starts the managed haproxy again when it dies, and keeps it stopped once the agent stops', async () => {
    const backend = await startBackend('backend-one');
    backends.push(backend.server);
    const frontendPort = await freePort();
    await driver.start();
    await applyArtifact(driver, haproxyConfig({ statsSocket, frontendPort, backendPort: backend.port }), logger);
    const masterPid = () => haproxyCli(join(dir, 'master.sock'), 'show proc').then((t) => parseShowProc(t).master?.pid);
    const first = await masterPid();

    process.kill(first as number, 'SIGKILL');
    await waitFor('haproxy restarted', async () => (await masterPid().catch(() => undefined)) !== first && (await httpGetText(frontendPort).catch(() => '')) === '200 backend-one', 15_000);
    expect((await driver.probe()).state).toBe('COMPONENT_OK');

    await driver.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    await expect(httpGetText(frontendPort)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('takes over the haproxy a crashed agent left running, keeps it serving, and stops it on stop', async () => {
    const one = await startBackend('backend-one');
    const two = await startBackend('backend-two');
    backends.push(one.server, two.server);
    const frontendPort = await freePort();
    await applyArtifact(driver, haproxyConfig({ statsSocket, frontendPort, backendPort: one.port }), logger);

    // The first driver stands for an agent that died: its haproxy keeps running.
    const next = new HaproxyDriver({ mode: 'managed', bin: '/usr/sbin/haproxy', configFile: cfg, masterSocket: join(dir, 'master.sock'), statsSocket, logger, checkTimeoutMs: 6_000 });
    try {
      await next.start();
      expect(await httpGetText(frontendPort)).toBe('200 backend-one');
      await applyArtifact(next, haproxyConfig({ statsSocket, frontendPort, backendPort: two.port }), logger);
      expect(await httpGetText(frontendPort)).toBe('200 backend-two');
      expect((await next.probe()).state).toBe('COMPONENT_OK');
    } finally {
      await next.stop();
    }
    await expect(httpGetText(frontendPort)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('reports a failed first start and leaves no configuration behind', async () => {
    const frontendPort = await freePort();
    const failure = await applyArtifact(driver, haproxyConfig({ statsSocket, frontendPort, backendPort: 1, bind: '192.0.2.1' }), logger).catch((e: unknown) => e);

    expect((failure as DriverError).message).toMatch(/haproxy did not start.*cannot bind socket.*there was no previous configuration: the new one was removed and haproxy is not running/);
    expect(existsSync(cfg)).toBe(false);
    expect((await driver.probe()).state).toBe('COMPONENT_NOT_CONFIGURED');
  });

  it('in external mode reloads a haproxy someone else runs, and leaves it running when the agent stops', async () => {
    const one = await startBackend('backend-one');
    const two = await startBackend('backend-two');
    backends.push(one.server, two.server);
    const frontendPort = await freePort();
    const masterSocket = join(dir, 'external-master.sock');
    writeFileSync(cfg, haproxyConfig({ statsSocket, frontendPort, backendPort: one.port }));
    const external = spawn('/usr/sbin/haproxy', ['-W', '-db', '-S', `${masterSocket},mode,600`, '-f', cfg], { stdio: 'ignore' });
    const exited = new Promise((resolve) => external.once('exit', resolve));
    try {
      await waitFor('external haproxy serving', () => httpGetText(frontendPort).catch(() => undefined), 10_000);
      const agentSide = new HaproxyDriver({ mode: 'external', bin: '/usr/sbin/haproxy', configFile: cfg, masterSocket, statsSocket, logger, checkTimeoutMs: 6_000 });
      await agentSide.start();

      await applyArtifact(agentSide, haproxyConfig({ statsSocket, frontendPort, backendPort: two.port }), logger);
      expect(await httpGetText(frontendPort)).toBe('200 backend-two');
      expect((await agentSide.probe()).state).toBe('COMPONENT_OK');

      await agentSide.stop();
      expect(external.exitCode).toBeNull();
      expect(await httpGetText(frontendPort)).toBe('200 backend-two');
    } finally {
      external.kill('SIGTERM');
      await exited;
    }
  });

  it('in external mode installs the first configuration when haproxy does not run yet (bring-up), and the haproxy started later runs it', async () => {
    const one = await startBackend('backend-one');
    backends.push(one.server);
    const frontendPort = await freePort();
    const masterSocket = join(dir, 'external-master.sock');
    const agentSide = new HaproxyDriver({ mode: 'external', bin: '/usr/sbin/haproxy', configFile: cfg, masterSocket, statsSocket, logger, checkTimeoutMs: 6_000 });
    await agentSide.start();
    const t0 = Date.now();
    await applyArtifact(agentSide, haproxyConfig({ statsSocket, frontendPort, backendPort: one.port }), logger);
    // Not the reload's full timeout: nothing listening for 2 s means haproxy does not run.
    expect(Date.now() - t0).toBeLessThan(6_000);
    expect(readFileSync(cfg, 'utf8')).toContain(`server s1 127.0.0.1:${one.port}`);
    expect((await agentSide.probe()).state).toBe('COMPONENT_DOWN');

    // Whoever runs haproxy (Pacemaker's clone) starts it with the file; the next apply reloads it.
    const external = spawn('/usr/sbin/haproxy', ['-W', '-db', '-S', `${masterSocket},mode,600`, '-f', cfg], { stdio: 'ignore' });
    const exited = new Promise((resolve) => external.once('exit', resolve));
    try {
      expect(await waitFor('external haproxy serving', () => httpGetText(frontendPort).catch(() => undefined), 10_000)).toBe('200 backend-one');
      expect((await agentSide.probe()).state).toBe('COMPONENT_OK');
    } finally {
      external.kill('SIGTERM');
      await exited;
      await agentSide.stop();
    }
  });
});
