import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { run } from './host-process';
import { Lab } from './lab';

const STATE_ROOT = '/var/lib/triad-lab';

/** Two probes: a TCP connect from inside a controller, and an HTTP GET from the root namespace. */
async function connects(lab: Lab, from: string, host: string, port: number): Promise<boolean> {
  const r = await lab.exec(from, ['/usr/bin/timeout', '2', '/bin/bash', '-c', `echo > /dev/tcp/${host}/${port}`]);
  return r.code === 0;
}

async function get(url: string): Promise<{ node: string; service: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return (await res.json()) as { node: string; service: string };
  } catch {
    return undefined;
  }
}

/** What a lab could leave on the host, checked independently of `Lab.down`'s own checks. */
async function leftovers(name: string): Promise<string[]> {
  const dir = `${STATE_ROOT}/${name}`;
  const found: string[] = [];
  const netns = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${name}-`));
  found.push(...netns.map((ns) => `netns ${ns}`));
  if ((await run('ip', ['link', 'show', `${name}-gw`])).code === 0) found.push(`veth ${name}-gw`);
  if (existsSync(dir)) found.push(`dir ${dir}`);
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) found.push(`process ${pid}`);
      if (readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(dir)) found.push(`mount seen by ${pid}`);
    } catch {
      // Exited while scanning.
    }
  }
  return found;
}

describe(Lab.name, () => {
  // Unique per run: another run of this suite (another engineer, CI) may be using the lab at once.
  const name = `lt${process.pid}`;
  let lab: Lab;
  let gatewayListener: Server;
  let gatewayPort: number;
  const address = (i: number) => lab.controllers[i - 1]?.address ?? '';

  beforeAll(async () => {
    const t0 = Date.now();
    lab = await Lab.up({ name, controllers: 3 });
    console.log(`lab up (3 controllers, stand-ins answering) in ${Date.now() - t0} ms`);
    gatewayListener = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => gatewayListener.listen(0, lab.gatewayAddress, resolve));
    const address = gatewayListener.address();
    gatewayPort = typeof address === 'object' && address ? address.port : 0;
  }, 120_000);

  afterAll(async () => {
    gatewayListener?.close();
    await Lab.down(name, STATE_ROOT);
  }, 60_000);

  it('puts every controller on the lab network, reaching the others and the gateway', async () => {
    for (const from of lab.controllers) {
      for (const to of lab.controllers) {
        if (to !== from) expect(await connects(lab, from.name, to.address, 5000)).toBe(true);
      }
      expect(await connects(lab, from.name, lab.gatewayAddress, gatewayPort)).toBe(true);
    }
  }, 60_000);

  it('answers stand-in API calls on each controller address from the root namespace', async () => {
    expect(await get(`http://${address(1)}:5000/v3`)).toMatchObject({ node: 'controller-1', service: 'keystone' });
    expect(await get(`http://${address(2)}:9292/`)).toMatchObject({ node: 'controller-2', service: 'glance-api' });
  });

  it('gives each controller its own /run, hostname and state directories', async () => {
    expect((await lab.exec('controller-1', ['/usr/bin/touch', '/run/only-on-c1', '/var/lib/pacemaker/cib/only-on-c1'])).code).toBe(0);
    expect((await lab.exec('controller-2', ['/usr/bin/test', '-e', '/run/only-on-c1'])).code).not.toBe(0);
    expect((await lab.exec('controller-2', ['/usr/bin/test', '-e', '/var/lib/pacemaker/cib/only-on-c1'])).code).not.toBe(0);
    expect(existsSync('/run/only-on-c1')).toBe(false);
    expect((await lab.exec('controller-2', ['/bin/hostname'])).stdout.trim()).toBe('controller-2');
    expect((await lab.exec('controller-2', ['/usr/bin/getent', 'hosts', 'controller-3'])).stdout).toContain(address(3));
    expect((await lab.exec('controller-3', ['/sbin/sysctl', '-n', 'net.ipv4.ip_nonlocal_bind'])).stdout.trim()).toBe('1');
  });

  it('cut takes a controller off the network and heal puts it back', async () => {
    await lab.cut('controller-1');
    expect(await connects(lab, 'controller-2', address(1), 5000)).toBe(false);
    expect(await get(`http://${address(1)}:5000/`)).toBeUndefined();
    expect((await lab.status()).controllers[0]).toMatchObject({ link: 'down' });
    await lab.heal('controller-1');
    expect(await connects(lab, 'controller-2', address(1), 5000)).toBe(true);
    expect(await get(`http://${address(1)}:5000/`)).toMatchObject({ node: 'controller-1' });
  }, 30_000);

  it('kill stops one supervised process and status shows it dead', async () => {
    const [pid] = await lab.kill('controller-2', 'standin');
    expect(pid).toBeGreaterThan(0);
    expect(await get(`http://${address(2)}:5000/`)).toBeUndefined();
    const c2 = (await lab.status()).controllers[1];
    expect(c2?.processes).toEqual([expect.objectContaining({ name: 'standin', alive: false })]);
    expect(c2?.anchorAlive).toBe(true);
  });

  it('kill finds a process by its name inside the controller', async () => {
    const idle = await lab.spawn('controller-3', 'idle', ['/usr/bin/tail', '-f', '/dev/null']);
    expect(await lab.kill('controller-3', 'tail')).toEqual([idle.pid]);
    expect((await lab.status()).controllers[2]?.anchorAlive).toBe(true);
    await expect(lab.kill('controller-3', 'no-such-daemon')).rejects.toThrow(/no process/);
  });

  it('stop powers a controller off and start brings it back with its state and services', async () => {
    await lab.stop('controller-1');
    expect(await get(`http://${address(1)}:5000/`)).toBeUndefined();
    expect((await lab.status()).controllers[0]).toMatchObject({ stopped: true, anchorAlive: false, link: 'down' });
    await expect(lab.exec('controller-1', ['/bin/true'])).rejects.toThrow(/not running/);

    await lab.start('controller-1');
    expect(await get(`http://${address(1)}:5000/`)).toMatchObject({ node: 'controller-1' });
    expect((await lab.exec('controller-1', ['/usr/bin/test', '-e', '/var/lib/pacemaker/cib/only-on-c1'])).code).toBe(0);
    expect((await lab.exec('controller-1', ['/usr/bin/test', '-e', '/run/only-on-c1'])).code).not.toBe(0);
  }, 60_000);

  it('add puts a fourth controller on the running lab: the others reach it by name, its stand-ins answer, it holds nothing configured', async () => {
    const t0 = Date.now();
    // From another handle, as `tools/lab/lab add` does.
    const added = await Lab.open(name, STATE_ROOT).add();
    console.log(`controller added in ${Date.now() - t0} ms`);
    lab = Lab.open(name, STATE_ROOT);
    expect(added).toMatchObject({ name: 'controller-4', address: address(1).replace(/\.1$/, '.4') });
    for (const from of ['controller-1', 'controller-3']) {
      expect(await connects(lab, from, added.address, 5000)).toBe(true);
      expect((await lab.exec(from, ['/usr/bin/getent', 'hosts', 'controller-4'])).stdout).toContain(added.address);
    }
    expect(await connects(lab, 'controller-4', lab.gatewayAddress, gatewayPort)).toBe(true);
    expect((await lab.exec('controller-4', ['/usr/bin/getent', 'hosts', 'controller-2'])).stdout).toContain(address(2));
    expect(await get(`http://${added.address}:5000/v3`)).toMatchObject({ node: 'controller-4', service: 'keystone' });
    expect((await lab.exec('controller-4', ['/bin/hostname'])).stdout.trim()).toBe('controller-4');
    // A fresh controller: no Pacemaker CIB, no MariaDB data yet.
    expect((await lab.exec('controller-4', ['/usr/bin/test', '-e', '/var/lib/pacemaker/cib/cib.xml'])).code).not.toBe(0);
    expect((await lab.exec('controller-4', ['/usr/bin/test', '-e', '/var/lib/mysql/grastate.dat'])).code).not.toBe(0);
  }, 60_000);

  it('down from another handle removes every namespace, veth, process, mount and file', async () => {
    expect(Lab.list(STATE_ROOT)).toContainEqual(expect.objectContaining({ name, phase: 'up', controllersRunning: 4, controllers: 4 }));
    const t0 = Date.now();
    await Lab.open(name, STATE_ROOT).down();
    console.log(`lab down in ${Date.now() - t0} ms`);
    expect(await leftovers(name)).toEqual([]);
    expect(Lab.list(STATE_ROOT).map((l) => l.name)).not.toContain(name);
  }, 60_000);
});

describe('Lab after a failed up', () => {
  const name = `lf${process.pid}`;
  afterAll(() => Lab.down(name, STATE_ROOT), 60_000);

  it('down cleans up what a failed up left behind', async () => {
    // A port no server can bind: the namespaces and anchors exist, then the stand-ins die.
    await expect(
      Lab.up({ name, controllers: 2, services: [{ name: 'keystone', port: 5000 }, { name: 'broken', port: 70000 }] }),
    ).rejects.toThrow(/standin on controller-\d exited/);
    expect(await leftovers(name)).not.toEqual([]);
    await Lab.down(name, STATE_ROOT);
    expect(await leftovers(name)).toEqual([]);
  }, 120_000);
});
