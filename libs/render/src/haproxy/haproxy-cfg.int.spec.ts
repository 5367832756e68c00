import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parseSpecText, resolveServices, validateClusterSpec } from '@triad/spec';
import { DEFAULT_HOST_PROFILE, type HostProfile } from '../host-profile';
import { renderHaproxyCfg } from './haproxy-cfg.renderer';

function adminCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let out = '';
    conn.on('data', (chunk) => (out += chunk.toString()));
    conn.on('end', () => resolve(out));
    conn.on('error', reject);
    conn.write(`${command}\n`);
  });
}

async function waitForAdmin(socket: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}`);
    try {
      await adminCommand(socket, 'show info');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe(renderHaproxyCfg.name, () => {
  let dir: string;
  let haproxy: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'triad-haproxy-'));
  });
  afterAll(async () => {
    if (haproxy && haproxy.exitCode === null) {
      haproxy.kill('SIGTERM');
      await once(haproxy, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a real haproxy that opens every frontend of the seed example (bind override, own network namespace)', async () => {
    const file = join(__dirname, '../../../../examples/seed-3-active-active.yaml');
    const { spec } = validateClusterSpec(parseSpecText(readFileSync(file, 'utf8'), file));
    if (!spec) throw new Error('seed example must be valid');
    const socket = join(dir, 'admin.sock');
    // A lab host: no chroot, no user switch, no syslog; every frontend on loopback.
    const profile: HostProfile = {
      ...DEFAULT_HOST_PROFILE,
      haproxy: { configPath: join(dir, 'haproxy.cfg'), statsSocket: socket, bindAddressOverride: '127.0.0.1' },
    };
    await writeFile(profile.haproxy.configPath, renderHaproxyCfg(spec, 'controller-1', profile).content);

    // A private network namespace: the service ports (80, 5000, ...) are free whatever runs on this machine.
    haproxy = spawn(
      '/usr/bin/unshare',
      // -n 4096: this host's open-file limit is below what maxconn 20480 needs (the agent does the same).
      ['-n', '--', '/bin/sh', '-c', 'ip link set lo up && exec /usr/sbin/haproxy -W -db -n 4096 -f "$0"', profile.haproxy.configPath],
      { stdio: 'ignore' },
    );
    await waitForAdmin(socket, haproxy);

    const rows = (await adminCommand(socket, 'show stat'))
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(','));
    const openFrontends = rows.filter((r) => r[1] === 'FRONTEND' && r[17] === 'OPEN').map((r) => r[0]);
    expect(openFrontends.sort()).toEqual([...resolveServices(spec).map((s) => s.name), 'galera'].sort());
    const galeraServers = rows.filter((r) => r[0] === 'galera' && r[1].startsWith('controller-'));
    expect(galeraServers.map((r) => r[1])).toEqual(['controller-1', 'controller-2', 'controller-3']);
  }, 30_000);
});
