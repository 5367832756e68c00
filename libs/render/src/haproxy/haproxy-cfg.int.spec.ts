import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parseSpecText, resolveServices, validateClusterSpec, type ClusterSpec } from '@triad/spec';
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

function seed(): ClusterSpec {
  const file = join(__dirname, '../../../../examples/seed-3-active-active.yaml');
  const { spec } = validateClusterSpec(parseSpecText(readFileSync(file, 'utf8'), file));
  if (!spec) throw new Error('seed example must be valid');
  return spec;
}

describe(renderHaproxyCfg.name, () => {
  let dir: string;
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'triad-haproxy-'));
  });
  afterAll(async () => {
    for (const child of running) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Starts haproxy on the rendered file in a private network namespace holding only loopback (so
   * no port on this machine is taken and no VIP is local), and returns its `show stat` rows.
   */
  async function startAndShowStat(spec: ClusterSpec, name: string, bindAddressOverride?: string): Promise<string[][]> {
    const socket = join(dir, `${name}.sock`);
    // A lab host: no chroot, no user switch, no syslog, maxconn within this host's open-file limit.
    const profile: HostProfile = {
      ...DEFAULT_HOST_PROFILE,
      haproxy: { configPath: join(dir, `${name}.cfg`), statsSocket: socket, bindAddressOverride, maxconn: 4096 },
    };
    await writeFile(profile.haproxy.configPath, renderHaproxyCfg(spec, 'controller-1', profile).content);
    const script = 'ip link set lo up && exec /usr/sbin/haproxy -W -db -f "$0"';
    const child = spawn('/usr/bin/unshare', ['-n', '--', '/bin/sh', '-c', script, profile.haproxy.configPath], {
      stdio: 'ignore',
    });
    running.push(child);
    await waitForAdmin(socket, child);
    return (await adminCommand(socket, 'show stat'))
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(','));
  }

  const openFrontends = (rows: string[][]): string[] =>
    rows.filter((r) => r[1] === 'FRONTEND' && r[17] === 'OPEN').map((r) => r[0]).sort();

  it('starts a real haproxy that opens every frontend on VIPs the host does not hold', async () => {
    const spec = seed();
    const rows = await startAndShowStat(spec, 'vips');
    expect(openFrontends(rows)).toEqual([...resolveServices(spec).map((s) => s.name), 'galera'].sort());
    const galeraServers = rows.filter((r) => r[0] === 'galera' && r[1].startsWith('controller-'));
    expect(galeraServers.map((r) => r[1])).toEqual(['controller-1', 'controller-2', 'controller-3']);
  }, 30_000);

  it('starts a real haproxy with every frontend on the bind override address', async () => {
    const spec = seed();
    const rows = await startAndShowStat(spec, 'override', '127.0.0.1');
    expect(openFrontends(rows)).toHaveLength(spec.services.length + 1);
  }, 30_000);
});
